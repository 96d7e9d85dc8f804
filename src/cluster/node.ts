/**
 * `meshcheck cluster up | down | status`: a real single-node Kubernetes cluster on this machine (etcd,
 * kube-apiserver, controller-manager, scheduler, containerd with runc, a kubelet registered as a real
 * Node, kube-proxy, the CNI bridge), with images built here and no registry. Every change to the host is
 * recorded in the node's ledger before it is made; `down` (and `meshcheck cleanup` after a crash) undoes
 * the ledger, newest first.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Agent, request } from 'undici';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { InfraError, UsageError } from '../errors.js';
import { Ledger, type HostChange } from '../ledger/ledger.js';
import { ProcessGroup, processAlive } from '../process/process-group.js';
import { eventually } from '../util/eventually.js';
import { freePort } from '../util/net.js';
import { tool } from '../util/tools.js';
import { kubeconfigPath } from '../kube/client.js';
import { undoLedger } from '../cli/cleanup.js';
import { API_URL, nodeFiles, writeConfigs, writePki } from './configs.js';
import { linkExists, nftTables, nodeCgroups, readSysctls, sh, sha256, withContext } from './host.js';
import { importImage, imageTarball, nodeEnvoyVersion, nodeImages } from './images.js';
import { dnsObjects } from './dns.js';
import { HOST_PATHS, NODE, NODE_IMAGES_CONFIGMAP, NODE_RUN_ID, NODE_SYSCTLS, nodeStateDir } from './settings.js';

type Log = (m: string) => void;

/** The node's ledger, and the pid that owns it now (the command during `up`, the process group's leader after). */
function nodeLedger(): { file: string; owner?: number } | undefined {
  const l = Ledger.list().find((x) => x.runId === NODE_RUN_ID);
  if (!l) return undefined;
  const runs = Ledger.read(l.file).filter((e) => e.op === 'run');
  const last = runs[runs.length - 1];
  return { file: l.file, owner: last?.op === 'run' ? last.pid : undefined };
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new UsageError(`cluster ${what} needs root: it creates a network bridge and nftables rules, and runs the kubelet and containerd (run it with sudo)`);
  }
}

/** Host programs the node needs from Debian (scripts/setup.sh installs them). */
const HOST_PROGRAMS: Record<string, string> = { '/usr/sbin/runc': 'runc', '/usr/lib/cni/bridge': 'containernetworking-plugins', '/usr/lib/cni/host-local': 'containernetworking-plugins', '/usr/lib/cni/loopback': 'containernetworking-plugins' };

function checkHost(): void {
  for (const [p, pkg] of Object.entries(HOST_PROGRAMS)) if (!existsSync(p)) throw new InfraError(`${p} is missing: install the Debian package ${pkg} (npm run setup does)`);
  for (const [cmd, pkg] of [['nft', 'nftables'], ['iptables', 'iptables'], ['ip', 'iproute2'], ['umount', 'mount']]) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) throw new InfraError(`${cmd} is not installed: install the Debian package ${pkg} (npm run setup does)`);
  }
  if (existsSync(NODE.containerdSocket)) throw new InfraError(`${NODE.containerdSocket} exists: another containerd runs on this machine, and the node's must use that path (the kubelet's cAdvisor looks for it there); stop it first`);
  if (linkExists(NODE.bridge) || linkExists(NODE.veth[0])) throw new InfraError(`link ${NODE.bridge} or ${NODE.veth[0]} exists but no node is recorded: remove it (ip link del) or run meshcheck cleanup`);
}

/** A progress line per component with its time since the start. */
function stepper(log: Log) {
  const t0 = performance.now();
  return (what: string) => log(`${what} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

export interface UpResult {
  context: string;
  kubeconfig: string;
  images: { app: string; k6: string; sandbox: string };
  seconds: number;
}

/** Starts the node; resolves once the Node is Ready. On failure everything made so far is undone. */
export async function clusterUp(o: { context?: string; kubeconfig?: string; log: Log }): Promise<UpResult> {
  requireRoot('up');
  const existing = nodeLedger();
  if (existing?.owner && processAlive(existing.owner)) {
    throw new UsageError(`a node is already up (meshcheck cluster status shows it; meshcheck cluster down stops it)`);
  }
  if (existing) {
    o.log('a node that did not stop cleanly is recorded: undoing it first');
    await clusterDown({ log: o.log });
  }
  checkHost();
  const context = o.context ?? NODE.name;
  const t0 = performance.now();
  const step = stepper(o.log);
  const dir = nodeStateDir();
  const f = nodeFiles(dir);
  const images = nodeImages();
  const ledger = new Ledger(NODE_RUN_ID);
  ledger.record({ op: 'run', runId: NODE_RUN_ID, pid: process.pid, startedAt: new Date().toISOString() });
  const host = (change: HostChange) => ledger.record({ op: 'host', change });
  let group: ProcessGroup | undefined;
  try {
    ledger.record({ op: 'directory', path: dir, what: 'the node\'s state (certificates, configs, etcd, containerd, logs)' });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // 1. The guard, before anything that could send: nothing from the pod range leaves through any
    // interface but the node's bridge, and nothing addressed to pods, Services or the node leaves the
    // machine. On postrouting: in the output hook a ClusterIP's route still names the uplink, so the
    // host's own (correctly DNATed) Service traffic would be dropped by mistake.
    host({ kind: 'nft-table', family: 'inet', name: NODE.guardTable });
    sh('nft', ['-f', '-'], { input: guardRules() });
    host({ kind: 'sysctls', prior: readSysctls(NODE_SYSCTLS) });
    // 2. The node's address on a veth pair of its own, and the bridge the CNI will create.
    host({ kind: 'links', names: [NODE.veth[0], NODE.bridge] });
    sh('ip', ['link', 'add', NODE.veth[0], 'type', 'veth', 'peer', 'name', NODE.veth[1]]);
    sh('ip', ['addr', 'add', `${NODE.ip}/32`, 'dev', NODE.veth[0]]);
    sh('ip', ['link', 'set', NODE.veth[1], 'up']);
    sh('ip', ['link', 'set', NODE.veth[0], 'up']);
    host({ kind: 'netfilter', tablesBefore: nftTables(), kubeProxy: tool('kube-proxy'), kubeProxyConfig: f.kubeProxy });
    host({ kind: 'runtime', stateDir: dir, shim: tool('containerd-shim-runc-v2'), pathsBefore: HOST_PATHS.filter((p) => existsSync(p)), cgroupsBefore: nodeCgroups() });
    await writePki(dir);
    writeConfigs(dir, { sandboxImage: images.sandbox.ref, kubeProxyHealthPort: await freePort(), kubeProxyMetricsPort: await freePort() });
    step('certificates, configs, guard and node address ready');

    // 3. The control plane, in a process group that outlives this command.
    group = await ProcessGroup.start(ledger, f.logs, { what: 'the node\'s control plane, containerd, kubelet and kube-proxy', ownLog: join(f.logs, 'launcher.log') });
    const [etcdClient, etcdPeer] = [await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = await group.spawn('etcd', tool('etcd'), [
      `--data-dir=${join(f.var, 'etcd')}`, `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`, '--listen-metrics-urls=', '--unsafe-no-fsync', '--log-level=warn',
    ], false);
    const apiserver = await group.spawn('kube-apiserver', tool('kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`, `--bind-address=${NODE.ip}`, `--advertise-address=${NODE.ip}`, `--secure-port=${NODE.apiPort}`,
      `--tls-cert-file=${f.cert('apiserver')}`, `--tls-private-key-file=${f.key('apiserver')}`, `--client-ca-file=${f.ca}`,
      `--service-cluster-ip-range=${NODE.serviceRange}`, '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${f.saPub}`, `--service-account-signing-key-file=${f.saKey}`,
      '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--allow-privileged=true',
      `--kubelet-client-certificate=${f.cert('apiserver-kubelet-client')}`, `--kubelet-client-key=${f.key('apiserver-kubelet-client')}`,
      `--kubelet-certificate-authority=${f.ca}`, '--kubelet-preferred-address-types=InternalIP',
    ], false);
    const api = apiAgent(f);
    const gone = (...pids: number[]) => () => pids.map((p) => group!.exitOf(p)).find(Boolean);
    await eventually(async () => (await request(`${API_URL}/readyz`, { dispatcher: api })).statusCode === 200, { timeoutMs: 90_000, intervalMs: 200, describe: `kube-apiserver ready (logs in ${f.logs})`, abort: gone(etcd.pid, apiserver.pid) });
    step('etcd and kube-apiserver ready');
    const kubeconfigArgs = (who: string) => [`--kubeconfig=${f.kubeconfig(who)}`, `--authentication-kubeconfig=${f.kubeconfig(who)}`, `--authorization-kubeconfig=${f.kubeconfig(who)}`];
    await group.spawn('kube-controller-manager', tool('kube-controller-manager'), [
      ...kubeconfigArgs('controller-manager'), '--secure-port=0', '--leader-elect=false', '--use-service-account-credentials=true',
      `--service-account-private-key-file=${f.saKey}`, `--root-ca-file=${f.ca}`,
      '--allocate-node-cidrs=true', `--cluster-cidr=${NODE.podRange}`, '--node-cidr-mask-size=24', `--service-cluster-ip-range=${NODE.serviceRange}`,
    ], false);
    await group.spawn('kube-scheduler', tool('kube-scheduler'), [...kubeconfigArgs('scheduler'), '--secure-port=0', '--leader-elect=false'], false);

    // 4. containerd and the images (imported: there is no registry).
    mkdirSync(dirname(NODE.containerdSocket), { recursive: true });
    const containerd = await group.spawn('containerd', tool('containerd'), ['--config', f.containerd], false);
    await eventually(() => existsSync(NODE.containerdSocket), { timeoutMs: 30_000, intervalMs: 100, describe: 'containerd\'s socket', abort: gone(containerd.pid) });
    step('controller-manager, scheduler and containerd started');
    for (const img of Object.values(images)) importImage(tool('ctr'), imageTarball(img));
    step(`images imported: ${Object.values(images).map((i) => i.ref).join(', ')}`);

    // 5. The kubelet, then kube-proxy; the Node must become Ready.
    const kubelet = await group.spawn('kubelet', tool('kubelet'), [
      `--config=${f.kubelet}`, `--kubeconfig=${f.kubeconfig('kubelet')}`, `--root-dir=${join(f.var, 'kubelet')}`,
      `--hostname-override=${NODE.name}`, `--node-ip=${NODE.ip}`, '--v=1',
      // cAdvisor's container stats every second (default 10 s): a sidecar's CPU is read per overhead
      // round, and rounds of a few seconds read nothing at 10 s (measured: every round 0).
      '--housekeeping-interval=1s',
    ], false);
    const proxy = await group.spawn('kube-proxy', tool('kube-proxy'), [`--config=${f.kubeProxy}`, '--v=1'], false);
    const admin = adminConfig(f);
    const client = KubernetesObjectApi.makeApiClient(admin);
    await eventually(async () => {
      const node = (await client.read({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE.name } })) as { status?: { conditions?: { type: string; status: string }[] } };
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    }, { timeoutMs: 120_000, intervalMs: 250, describe: `Node ${NODE.name} Ready (logs in ${f.logs})`, abort: gone(kubelet.pid, proxy.pid, containerd.pid, apiserver.pid) });
    step(`kubelet and kube-proxy up; Node ${NODE.name} Ready`);
    for (const obj of dnsObjects(images.dns.ref)) await client.create(obj);
    await eventually(async () => {
      const d = (await client.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system' } })) as { status?: { availableReplicas?: number } };
      return (d.status?.availableReplicas ?? 0) >= 1;
    }, { timeoutMs: 60_000, intervalMs: 250, describe: `the cluster DNS (CoreDNS) available (kubectl -n kube-system describe pod -l k8s-app=kube-dns)`, abort: gone(kubelet.pid, containerd.pid) });
    step(`cluster DNS Ready at ${NODE.dnsServiceIp}`);
    await client.create({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...NODE_IMAGES_CONFIGMAP, labels: { 'app.kubernetes.io/managed-by': 'meshcheck' } },
      // The images by key, and the Envoy version its sidecar image carries (the kube target's --data-plane default).
      data: { ...Object.fromEntries(Object.entries(images).map(([k, v]) => [k, v.ref])), envoy: nodeEnvoyVersion() },
    } as KubernetesObject);

    // 6. A context for the user, then hand the ledger to the process group's leader, which stays.
    const kubeconfig = kubeconfigPath(o.kubeconfig);
    const text = withContext(kubeconfig, context, { server: API_URL, ca: f.ca, cert: f.cert('admin'), key: f.key('admin') });
    const backup = existsSync(kubeconfig) ? join(dir, 'kubeconfig.before') : undefined;
    if (backup) copyFileSync(kubeconfig, backup);
    host({ kind: 'kubeconfig', file: kubeconfig, name: context, written: sha256(text), ...(backup ? { backup } : {}) });
    mkdirSync(dirname(kubeconfig), { recursive: true });
    writeFileSync(kubeconfig, text, { mode: 0o600 });
    ledger.record({ op: 'run', runId: NODE_RUN_ID, pid: group.pgid, startedAt: new Date().toISOString() });
    group.detach();
    await api.close();
    return { context, kubeconfig, images: { app: images.app.ref, k6: images.k6.ref, sandbox: images.sandbox.ref }, seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    o.log(`cluster up failed; undoing what it did (logs kept in ${f.logs} until then)`);
    group?.detach();
    const logTail = tail(f.logs);
    for (const d of await undoLedger(ledger.file)) o.log(`  ${d}`);
    throw logTail ? new InfraError(`${(err as Error).message}\n${logTail}`, { cause: (err as Error).cause }) : err;
  }
}

/** The last lines of the kubelet's and containerd's logs, for an error that would otherwise lose them with the state folder. */
function tail(logs: string): string {
  return ['kubelet', 'containerd', 'kube-apiserver'].map((n) => join(logs, `${n}.log`)).filter((p) => existsSync(p))
    .map((p) => `--- ${p} (last lines)\n${readFileSync(p, 'utf8').trim().split('\n').slice(-6).join('\n')}`).join('\n');
}

function guardRules(): string {
  const mine = `{ "lo", "${NODE.bridge}", "${NODE.veth[0]}", "${NODE.veth[1]}" }`;
  return `table inet ${NODE.guardTable} {
  chain forward { type filter hook forward priority -300; policy accept; ip saddr ${NODE.podRange} oifname != ${mine} counter drop; }
  chain postrouting { type filter hook postrouting priority 100; policy accept; oifname != ${mine} ip daddr { ${NODE.serviceRange}, ${NODE.podRange}, ${NODE.nodeRange} } counter drop; oifname != ${mine} ip saddr { ${NODE.podRange}, ${NODE.nodeRange} } counter drop; }
}
`;
}

/** An HTTPS agent that trusts the node's CA and presents the admin certificate. */
function apiAgent(f: ReturnType<typeof nodeFiles>): Agent {
  return new Agent({ connect: { ca: readFileSync(f.ca), cert: readFileSync(f.cert('admin')), key: readFileSync(f.key('admin')) } });
}

function adminConfig(f: ReturnType<typeof nodeFiles>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(f.kubeconfig('admin'));
  return kc;
}

/** Stops the node and undoes every change it recorded; says what it did. */
export async function clusterDown(o: { log: Log }): Promise<string[]> {
  requireRoot('down');
  const l = nodeLedger();
  if (!l) {
    o.log('no node is up (nothing recorded)');
    return [];
  }
  const done = await undoLedger(l.file);
  for (const d of done) o.log(d);
  return done;
}

export interface NodeStatus {
  up: boolean;
  detail: string[];
}

/** Whether the node runs, its Node's readiness and its pods. */
export async function clusterStatus(): Promise<NodeStatus> {
  const l = nodeLedger();
  if (!l) return { up: false, detail: ['no node is up'] };
  if (!l.owner || !processAlive(l.owner)) return { up: false, detail: [`a node is recorded but its processes are gone (${l.file}): meshcheck cluster down (or meshcheck cleanup) removes what it left`] };
  const f = nodeFiles(nodeStateDir());
  const client = KubernetesObjectApi.makeApiClient(adminConfig(f));
  try {
    const node = (await client.read({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE.name } })) as { status?: { conditions?: { type: string; status: string; message?: string }[]; nodeInfo?: { kubeletVersion?: string; containerRuntimeVersion?: string } } };
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const pods = (await client.list('v1', 'Pod')).items as { status?: { phase?: string } }[];
    const phases = Object.entries(pods.reduce<Record<string, number>>((a, p) => ({ ...a, [p.status?.phase ?? '?']: (a[p.status?.phase ?? '?'] ?? 0) + 1 }), {})).map(([k, v]) => `${v} ${k}`);
    return {
      up: ready?.status === 'True',
      detail: [
        `Node ${NODE.name}: ${ready?.status === 'True' ? 'Ready' : `not Ready (${ready?.message ?? 'no condition yet'})`}; kubelet ${node.status?.nodeInfo?.kubeletVersion}, ${node.status?.nodeInfo?.containerRuntimeVersion}`,
        `API server ${API_URL}; pods: ${phases.join(', ') || 'none'}`,
        `state and logs: ${nodeStateDir()}; process group ${l.owner}`,
      ],
    };
  } catch (err) {
    return { up: false, detail: [`the node's processes run (group ${l.owner}) but its API server does not answer: ${(err as Error).message}`] };
  }
}
