/**
 * A real kube-apiserver with etcd on loopback, for checking rendered mesh objects against the real
 * CRD schemas (OpenAPI validation, CEL rules, defaulting) through server-side apply. No controllers,
 * no nodes: objects are stored and validated, nothing reconciles them.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { KubeConfig, KubernetesObjectApi, loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { serverSideApply as applyObject } from './client.js';
import { InfraError } from '../errors.js';
import { Ledger } from '../ledger/ledger.js';
import { ProcessGroup } from '../process/process-group.js';
import { eventually, sleep } from '../util/eventually.js';
import { freePort } from '../util/net.js';
import { tool } from '../util/tools.js';

export interface ApiServer {
  url: string;
  kubeconfig: KubeConfig;
  /** A kubeconfig file for kubectl and other tools (context "meshcheck-test"). */
  kubeconfigFile: string;
  /** Its folder: certificates, the service-account key pair (sa.key, sa.pub), etcd's data. */
  dir: string;
  /** Starts another process in the server's process group (stopped with it). */
  spawn(name: string, command: string, args: string[]): Promise<{ pid: number }>;
  /** That process group. */
  group: ProcessGroup;
  client: KubernetesObjectApi;
  /**
   * Kills kube-apiserver (SIGKILL, as a crash or an out-of-memory kill would; a SIGTERM with watches
   * open waits out its 60 s shutdown deadline) and starts it again on the same port with the same
   * etcd: clients see refused connections until it is ready again. Resolves once it is, with the time
   * it was away in ms.
   */
  restartApiServer(): Promise<number>;
  stop(): Promise<void>;
}


/**
 * Starts etcd and kube-apiserver and waits until ready: in a process group of their own (recorded in
 * a ledger of their own), or inside a caller's group and folder (`within`: a local tier of the run's own), whose
 * owner then stops them with everything else.
 */
export async function startApiServer(log: (m: string) => void = () => undefined, within?: { group: ProcessGroup; dir: string }): Promise<ApiServer> {
  const etcdBin = tool('etcd');
  const apiBin = tool('kube-apiserver');
  let stop: () => Promise<void>;
  let group: ProcessGroup;
  let dir: string;
  if (within) {
    ({ group, dir } = within);
    mkdirSync(dir, { recursive: true });
    stop = async () => undefined;
  } else {
    dir = mkdtempSync(join(tmpdir(), 'meshcheck-apiserver-'));
    const runId = `apiserver-${Date.now()}-${process.pid}`;
    const ledger = new Ledger(runId);
    ledger.record({ op: 'run', runId, pid: process.pid, startedAt: new Date().toISOString() });
    ledger.record({ op: 'directory', path: dir, what: 'test apiserver state' });
    const own = await ProcessGroup.start(ledger, dir, { what: 'test etcd and kube-apiserver' });
    group = own;
    let stopped = false;
    stop = async () => {
      if (stopped) return;
      stopped = true;
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
      ledger.close();
    };
  }
  let insecure: Agent | undefined;
  try {
    const [client, peer, secure] = [await freePort(), await freePort(), await freePort()];
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},meshcheck-admin,meshcheck-admin,system:masters\n`);
    const etcdUrl = `http://127.0.0.1:${client}`;
    log(`starting etcd on ${etcdUrl}`);
    const etcd = await group.spawn('etcd', etcdBin, [
      `--data-dir=${join(dir, 'etcd')}`, `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=default=http://127.0.0.1:${peer}`, '--unsafe-no-fsync', '--log-level=warn',
    ], false);
    const url = `https://127.0.0.1:${secure}`;
    log(`starting kube-apiserver on ${url}`);
    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${secure}`,
      `--cert-dir=${join(dir, 'certs')}`, '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`, '--authorization-mode=RBAC',
      // No pods run here, so no ServiceAccount token controller: skip that admission plugin.
      '--disable-admission-plugins=ServiceAccount', '--enable-priority-and-fairness=false',
      // kwok's simulated nodes: their "kubelet" (kwok's server) is at the InternalIP; no DNS for node names.
      '--kubelet-preferred-address-types=InternalIP',
    ];
    insecure = new Agent({ connect: { rejectUnauthorized: false } });
    const startApiserver = async () => {
      const apiserver = await group.spawn('kube-apiserver', apiBin, apiserverArgs, false);
      await eventually(async () => {
        const r = await request(`${url}/readyz`, { dispatcher: insecure!, headers: { authorization: `Bearer ${token}` } }).catch((e: Error) => ({ statusCode: 0, body: { text: async () => e.message } }));
        const text = await r.body.text();
        if (r.statusCode !== 200) throw new Error(`readyz ${r.statusCode}: ${text.slice(0, 200)}`);
        return true;
      }, { timeoutMs: 90_000, intervalMs: 250, describe: `kube-apiserver ready (logs in ${dir})`, abort: () => group.exitOf(apiserver.pid) ?? group.exitOf(etcd.pid) });
      return apiserver.pid;
    };
    let apiserverPid = await startApiserver();
    const restartApiServer = async () => {
      const t0 = performance.now();
      const pid = apiserverPid;
      process.kill(pid, 'SIGKILL');
      await eventually(() => group.exitOf(pid) !== undefined, { timeoutMs: 10_000, intervalMs: 50, describe: 'kube-apiserver to stop' });
      apiserverPid = await startApiserver();
      return performance.now() - t0;
    };
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'meshcheck-test', server: url, skipTLSVerify: true }],
      users: [{ name: 'meshcheck-admin', token }],
      contexts: [{ name: 'meshcheck-test', cluster: 'meshcheck-test', user: 'meshcheck-admin' }],
      currentContext: 'meshcheck-test',
    });
    const kubeconfigFile = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigFile, kc.exportConfig());
    log('kube-apiserver ready');
    return {
      url,
      kubeconfig: kc,
      kubeconfigFile,
      dir,
      client: KubernetesObjectApi.makeApiClient(kc),
      stop: async () => {
        await insecure?.close();
        await stop();
      },
      restartApiServer,
      group,
      spawn: (name, command, args) => group.spawn(name, command, args, false),
    };
  } catch (err) {
    await insecure?.close();
    await stop();
    throw err;
  }
}

/** Every CustomResourceDefinition in the YAML files of a folder tree (clusters/crds). */
export function readCrds(root: string): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.yaml')) {
        // client-node's loader gives its typed models, so schema keys such as x-kubernetes-int-or-string
        // survive its serializer on the way to the server.
        let docs: (KubernetesObject | null)[];
        try {
          docs = loadAllYaml(readFileSync(p, 'utf8')) as (KubernetesObject | null)[];
        } catch (err) {
          throw new InfraError(`${p}: ${(err as Error).message}`);
        }
        for (const o of docs) if (o && o.kind === 'CustomResourceDefinition') out.push(o);
      }
    }
  };
  walk(root);
  return out;
}

/** Creates CRDs (one already there is kept) and waits until every one is Established (its API is served). */
export async function installCrds(api: ApiServer, crds: KubernetesObject[], log: (m: string) => void = () => undefined): Promise<void> {
  for (const crd of crds) {
    await api.client.create(crd).catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  }
  log(`created ${crds.length} CRDs; waiting until established`);
  await eventually(async () => {
    for (const crd of crds) {
      const got = (await api.client.read({ apiVersion: crd.apiVersion!, kind: crd.kind!, metadata: { name: crd.metadata!.name! } })) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      if (!got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) throw new Error(`${crd.metadata!.name} not established`);
    }
    return true;
  }, { timeoutMs: 60_000, intervalMs: 200, describe: 'CRDs established' });
  // Discovery of the new groups can lag behind Established by a moment.
  await sleep(500);
}

/** Server-side apply of one object with meshcheck's field managers; `dryRun` validates without storing. */
export async function serverSideApply(api: ApiServer, o: KubernetesObject, dryRun = false): Promise<KubernetesObject> {
  return applyObject(api.client, o, dryRun);
}


