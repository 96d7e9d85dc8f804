/**
 * `meshcheck run --target kube` on the project's own cluster: a real control plane (etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler) with kwok's simulated nodes, the meshes'
 * CRDs, and a real istiod watching it. The workload rolls out, the scenario's Istio objects are
 * server-side applied and waited on until istiod holds them, and everything is undone. No container
 * runs on kwok's nodes, so no request can pass: such a scenario ends BROKEN saying so, never PASSED.
 */
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { installCrds, readCrds } from '../src/kube/apiserver.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { IstioControlPlane } from '../src/targets/istio/control-plane.js';
import { Applier } from '../src/kube/apply.js';
import { apiCall } from '../src/kube/client.js';
import { Ledger } from '../src/ledger/ledger.js';
import { eventually } from '../src/util/eventually.js';
import { doneWithin, startCli, tmpOut } from './helpers/cli.js';
import { consulStandIn } from './helpers/consul-stand-in.js';
import { linkerdStandIn } from './helpers/linkerd-stand-in.js';
import { osmStandIn } from './helpers/osm-stand-in.js';

let cluster: TestCluster;
let istiodUrl: string;
const CRDS = readCrds(join(process.cwd(), 'clusters', 'crds'));

beforeAll(async () => {
  cluster = await startTestCluster();
  await installCrds(cluster, CRDS);
  const cp = await IstioControlPlane.startOn(cluster, cluster.dir, () => undefined);
  istiodUrl = `http://127.0.0.1:${cp.ports.monitoring}`;
  // A port-forward to port 15014 of a pod (kwok's) reaches this istiod.
  writeFileSync(cluster.istiodDebugPortFile, String(cp.ports.monitoring));
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
});

const kube = (args: string[], stateDir?: string) => startCli(['run', ...args, '--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile, '--no-progress'], stateDir);

/** The kinds a run could touch: core and apps objects, RBAC, webhooks, and every kind of the meshes' CRDs. */
const KINDS: [string, string][] = [
  ['v1', 'Namespace'], ['v1', 'ConfigMap'], ['v1', 'Secret'], ['v1', 'ServiceAccount'], ['v1', 'Service'], ['v1', 'Pod'],
  ['apps/v1', 'Deployment'], ['apps/v1', 'ReplicaSet'], ['batch/v1', 'Job'],
  ['rbac.authorization.k8s.io/v1', 'Role'], ['rbac.authorization.k8s.io/v1', 'RoleBinding'], ['rbac.authorization.k8s.io/v1', 'ClusterRole'], ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
  ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration'], ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration'],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
  ...CRDS.map((c) => {
    const spec = (c as unknown as { spec: { group: string; names: { kind: string }; versions: { name: string; storage: boolean }[] } }).spec;
    return [`${spec.group}/${spec.versions.find((v) => v.storage)!.name}`, spec.names.kind] as [string, string];
  }),
];

/** Every object of those kinds, as YAML without its resourceVersion: the cluster "as it was". */
async function snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [apiVersion, kind] of KINDS) {
    // A CRD's storage answers 429 for a moment after it is created: retried as meshcheck does.
    const list = await apiCall({ verb: 'list', kind }, () => cluster.client.list(apiVersion, kind));
    for (const o of list.items as KubernetesObject[]) {
      // istiod's own bookkeeping (leader election, the root certificate it copies into every
      // namespace) changes on its own clock: objects only istiod ever wrote are not the run's doing.
      if (o.metadata!.managedFields?.every((m) => m.manager === 'pilot-discovery')) continue;
      const copy = JSON.parse(JSON.stringify(o)) as KubernetesObject & { status?: unknown };
      delete copy.metadata!.resourceVersion;
      // Status is the controllers' (a ReplicaSet's observed counts), not a change anyone made.
      delete copy.status;
      out.set(`${kind} ${o.metadata!.namespace ?? ''}/${o.metadata!.name}`, stringify(copy));
    }
  }
  return out;
}

function differences(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  return keys.flatMap((k) => (before.get(k) === after.get(k) ? [] : [`${k}: ${!before.has(k) ? 'added' : !after.has(k) ? 'removed' : 'changed'}`]));
}

/** Deletes a namespace a test made and waits until it is gone. */
async function deleteNamespace(name: string): Promise<void> {
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await core.deleteNamespace({ name });
  await eventually(() => core.readNamespace({ name }).then(() => false, () => true), { timeoutMs: 60_000, intervalMs: 250, describe: `namespace ${name} deleted` });
}

async function namespacesGone(): Promise<void> {
  await eventually(async () => {
    const list = await cluster.client.list('v1', 'Namespace', undefined, undefined, undefined, undefined, undefined, 'app.kubernetes.io/managed-by=meshcheck');
    return list.items.length === 0;
  }, { timeoutMs: 120_000, intervalMs: 500, describe: "meshcheck's namespaces deleted" });
}

type Record_ = {
  scenarios: { name: string; outcome: string; error?: string; convergenceMs: number[] }[];
  targetInfo: { convergenceMs: number[]; simulatedNodes: string[]; istiod: string };
};

test('a run applies, waits on istiod, undoes, ends BROKEN "no data plane on simulated nodes", and leaves every object as it was', async () => {
  const before = await snapshot();
  const out = tmpOut();
  const run = kube(['features/traffic-shifting.feature', 'features/fault-injection.feature:10', '--mesh', 'istio', '--istiod-url', istiodUrl, '--out', out]);
  const code = await run.done;
  expect({ code, stderr: code === 3 ? '' : run.stderr }).toEqual({ code: 3, stderr: '' });
  const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as Record_;
  expect(record.scenarios.map((s) => s.outcome)).toEqual(['BROKEN', 'BROKEN', 'BROKEN']);
  for (const s of record.scenarios) {
    expect(s.error).toMatch(/^no data plane on simulated nodes: the workload of meshcheck-\S+ is scheduled on kwok-node-\d.*; the scenario's policy was applied, istiod held it, and it is undone$/);
    // Each scenario's policy was applied and waited on until istiod held it (one apply per Given).
    expect(s.convergenceMs.length).toBeGreaterThanOrEqual(1);
  }
  expect(record.targetInfo.simulatedNodes).toEqual(['kwok-node-0', 'kwok-node-1']);
  expect(record.targetInfo.istiod).toBe(istiodUrl);
  // Allure: the manifests applied and what istiod's store held for them.
  const dir = join(out, 'allure-results');
  const files = readdirSync(dir);
  const split = files.filter((f) => f.includes('-attachment')).map((f) => readFileSync(join(dir, f), 'utf8'));
  expect(split.some((t) => /kind: VirtualService[\s\S]*weight: 20/.test(t))).toBe(true);
  expect(split.some((t) => /"kind": "VirtualService"[\s\S]*"generation"/.test(t))).toBe(true);
  expect(run.stderr).toMatch(/kube: namespace meshcheck-\S+ deleted/);
  await namespacesGone();
  expect(differences(before, await snapshot())).toEqual([]);
  expect(readdirSync(join(run.stateDir, 'ledgers'))).toEqual([]);
}, 240_000);

test("a user's object that meshcheck patches is put back byte for byte, its managedFields included", async () => {
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'shop' } } });
  await cluster.client.create({
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'ratings', namespace: 'shop', annotations: { team: 'payments', 'config.linkerd.io/opaque-ports': '5432' } },
    spec: { selector: { app: 'ratings' }, ports: [{ name: 'http', port: 9080 }] },
  } as KubernetesObject, undefined, undefined, 'kubectl-create');
  const key = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ratings', namespace: 'shop' } };
  const asYaml = async () => {
    const o = await cluster.client.read(key);
    delete o.metadata!.resourceVersion;
    return stringify(o);
  };
  const before = await asYaml();
  const ledger = new Ledger('byte-exact', join(tmpOut(), 'ledgers'));
  const applier = new Applier(cluster.kubeconfig, ledger, { kubeconfig: cluster.kubeconfigFile });
  // What the Linkerd adapter renders for a retry: annotations on the user's Service, one of them changed.
  const undo = await applier.apply([{ ...key, metadata: { ...key.metadata, annotations: { 'meshcheck.io/patch': 'true', 'config.linkerd.io/opaque-ports': '', 'retry.linkerd.io/http': '5xx' } } }]);
  const during = await cluster.client.read(key);
  expect(during.metadata!.annotations).toMatchObject({ team: 'payments', 'retry.linkerd.io/http': '5xx', 'config.linkerd.io/opaque-ports': '' });
  expect(during.metadata!.managedFields!.map((m) => m.manager)).toContain('meshcheck-patch');
  await undo();
  expect(await asYaml()).toBe(before);
  await deleteNamespace('shop');
}, 90_000);

test('SIGKILL in the middle of a scenario, then `meshcheck cleanup --context` from a machine without the ledger, leaves every object as it was', async () => {
  await namespacesGone();
  const before = await snapshot();
  const run = kube(['features/traffic-shifting.feature', '--mesh', 'istio', '--istiod-url', istiodUrl, '--out', tmpOut()]);
  const ledgers = join(run.stateDir, 'ledgers');
  const ledgerFile = () => (existsSync(ledgers) ? readdirSync(ledgers).map((f) => join(ledgers, f))[0] : undefined);
  // Killed once the run's copy of its ledger in the cluster records a VirtualService (the local file
  // has it first; the object is applied after both).
  const cmOf = async () => {
    const [ns] = (await cluster.client.list('v1', 'Namespace', undefined, undefined, undefined, undefined, undefined, 'app.kubernetes.io/managed-by=meshcheck')).items;
    if (!ns) return undefined;
    const cm = await cluster.client.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'meshcheck-ledger', namespace: ns.metadata!.name! } }).catch(() => undefined) as { data?: Record<string, string> } | undefined;
    return Object.values(cm?.data ?? {}).some((e) => /"kind":"VirtualService"/.test(e)) ? ns.metadata!.name! : undefined;
  };
  const ns = await eventually(cmOf, { timeoutMs: 120_000, intervalMs: 20, describe: 'a VirtualService in the ledger copy in the cluster' }).catch((err: Error) => {
    throw new Error(`${err.message}; meshcheck's stderr ends:\n${run.stderr.split('\n').slice(-30).join('\n')}`);
  });
  run.child.kill('SIGKILL');
  await run.done;
  // Another machine: no local ledger; the copy in the run's namespace has the entries.
  renameSync(ledgerFile()!, `${ledgerFile()!}.elsewhere`);
  const cleanup = startCli(['cleanup', '--context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile], run.stateDir);
  expect({ code: await cleanup.done, out: cleanup.stdout, err: cleanup.stderr }).toEqual({ code: 0, out: expect.stringContaining(`deleted namespace ${ns}`), err: '' });
  await namespacesGone();
  expect(differences(before, await snapshot())).toEqual([]);
}, 240_000);

test('a user without the RBAC rights gets exit 3 naming the denied verb, kind and scope, and nothing is left', async () => {
  await namespacesGone();
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'ci' } } });
  await core.createNamespacedServiceAccount({ namespace: 'ci', body: { metadata: { name: 'runner' } } });
  const token = (await core.createNamespacedServiceAccountToken({ name: 'runner', namespace: 'ci', body: { spec: { audiences: [], expirationSeconds: 3600 } } })).status!.token;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: cluster.url, skipTLSVerify: true }], users: [{ name: 'runner', token }],
    contexts: [{ name: 'runner', cluster: 'c', user: 'runner' }], currentContext: 'runner',
  });
  const file = join(tmpOut(), 'kubeconfig');
  writeFileSync(file, kc.exportConfig());
  const run = startCli(['run', 'features/traffic-shifting.feature:4', '--target', 'kube', '--context', 'runner', '--kubeconfig', file, '--mesh', 'istio', '--istiod-url', istiodUrl, '--out', tmpOut(), '--no-progress']);
  expect(await run.done).toBe(3);
  expect(run.stderr).toMatch(/BROKEN .*RBAC: not allowed to create Namespace meshcheck-\S+ \(cluster scope\): 403 namespaces "meshcheck-\S+" is forbidden: User "system:serviceaccount:ci:runner" cannot patch resource "namespaces"/);
  expect(readdirSync(join(run.stateDir, 'ledgers'))).toEqual([]);
  await deleteNamespace('ci');
}, 120_000);

test('409 conflicts and 429 throttling from the API server are retried: the run goes on as if they had not happened', async () => {
  // The one stand-in of this file, named as such: a TLS proxy in front of the real API server that
  // answers the first server-side apply of a VirtualService with 429 (Retry-After: 1) and the first
  // of a DestinationRule with 409, as a busy or contended API server does, and forwards the rest.
  const { createServer } = await import('node:https');
  const { request: forward } = await import('node:https');
  const injected: string[] = [];
  const target = new URL(cluster.url);
  const proxy = createServer({ cert: readFileSync(join(cluster.dir, 'certs', 'apiserver.crt')), key: readFileSync(join(cluster.dir, 'certs', 'apiserver.key')) }, (req, res) => {
    const apply = req.method === 'PATCH' && /apply-patch/.test(req.headers['content-type'] ?? '');
    const kind = /\/virtualservices\//.test(req.url ?? '') ? 'VirtualService' : /\/destinationrules\//.test(req.url ?? '') ? 'DestinationRule' : '';
    if (apply && kind && !injected.some((x) => x.startsWith(kind))) {
      const code = kind === 'VirtualService' ? 429 : 409;
      injected.push(`${kind} ${code}`);
      req.resume();
      res.writeHead(code, { 'content-type': 'application/json', ...(code === 429 ? { 'retry-after': '1' } : {}) });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason: code === 429 ? 'TooManyRequests' : 'Conflict', message: `injected by the test proxy (${code})` }));
      return;
    }
    const up = forward({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, rejectUnauthorized: false }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigFile);
    const file = join(tmpOut(), 'kubeconfig');
    writeFileSync(file, kc.exportConfig().replace(cluster.url, `https://127.0.0.1:${(proxy.address() as { port: number }).port}`));
    await namespacesGone();
    const out = tmpOut();
    const run = startCli(['run', 'features/traffic-shifting.feature:4', '--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', file, '--mesh', 'istio', '--istiod-url', istiodUrl, '--out', out, '--no-progress']);
    const code = await doneWithin(run, 200_000).catch((err: Error) => {
      run.child.kill('SIGINT');
      throw new Error(`${err.message}\nthe proxy injected: ${injected.join(', ') || 'nothing'}`);
    });
    expect({ code, stderr: code === 3 ? '' : run.stderr }).toEqual({ code: 3, stderr: '' });
    expect(injected.sort()).toEqual(['DestinationRule 409', 'VirtualService 429']);
    const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as Record_;
    // Applied, waited on and undone regardless: what stopped it is the simulated nodes, nothing else.
    expect(record.scenarios[0]!.error).toMatch(/^no data plane on simulated nodes: .*istiod held it, and it is undone$/);
    await namespacesGone();
  } finally {
    proxy.close();
  }
}, 300_000);

test('the k6 Job, the k6-operator TestRun and the plaintext probe Job meshcheck renders are accepted by the API server', async () => {
  const { callerPod, k6Job, k6TestRun, plaintextProbeJob } = await import('../src/targets/kube/k6-job.js');
  const { appContext, meshFor } = await import('../src/meshes/registry.js');
  const istio = meshFor('istio').mesh;
  const { profile } = await import('../src/load/profile.js');
  const { serverSideApply } = await import('../src/kube/client.js');
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'k6-check' } } });
  const ctx = appContext('k6-check', '1.31', 'run-1');
  const o = { ctx, name: 'k6-1', url: 'http://reviews:9080', parallelism: 3, quitUrl: istio.sidecar!.quitUrl, pod: callerPod(istio.workload(ctx), 'productpage') };
  const p = profile({ service: 'reviews', requests: 3000, rps: 3000 });
  const probe = plaintextProbeJob({ ctx: o.ctx, name: 'probe-3', service: 'reviews', targets: [{ instance: 'reviews-v1-x', address: '10.244.0.7:9080' }] });
  const objects = [...k6Job(p, o), ...k6TestRun(p, { ...o, name: 'k6-2' }), ...probe];
  expect(objects.map((x) => x.kind)).toEqual(['ConfigMap', 'Job', 'ConfigMap', 'TestRun', 'ConfigMap', 'Job']);
  // Server-side dry run: the schemas (the k6-operator CRD's for TestRun) and admission, nothing stored.
  for (const x of objects) await serverSideApply(cluster.client, x as KubernetesObject, true);
  expect((await cluster.client.list('batch/v1', 'Job', 'k6-check')).items).toEqual([]);
  await deleteNamespace('k6-check');
}, 90_000);

test("on a mesh that starts the app beside an unconfigured sidecar (OSM), a load's k6 starts only once the sidecar says it is ready", async () => {
  const { callerPod, k6Job } = await import('../src/targets/kube/k6-job.js');
  const { appContext, meshFor } = await import('../src/meshes/registry.js');
  const { profile } = await import('../src/load/profile.js');
  const { k6OutputOfLog } = await import('../src/load/k6.js');
  const { runK6PodsHere } = await import('./helpers/k6-pods.js');
  const osm = meshFor('osm').mesh;
  expect(osm.sidecar).toMatchObject({ readyUrl: 'http://127.0.0.1:15000/ready', quitUrl: 'http://127.0.0.1:15000/quitquitquit' });
  // A stand-in for the sidecar's Envoy admin (503 until 800 ms have passed, as Envoy answers before its
  // listeners arrive) and the service, on one loopback server: the pod's own command runs here.
  const t0 = Date.now();
  let readyAt = 0;
  let firstRequestAt = 0;
  const server = createServer((req, res) => {
    if (req.url === '/ready') {
      if (Date.now() - t0 < 800) return void res.writeHead(503).end('PRE_INITIALIZING');
      readyAt ||= Date.now();
      return void res.writeHead(200).end('LIVE');
    }
    if (req.url === '/quitquitquit') return void res.writeHead(200).end();
    firstRequestAt ||= Date.now();
    res.writeHead(200, { 'x-meshcheck-version': 'v1' }).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const admin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const ctx = appContext('k6-ready', '1.2', 'run-1');
    const o = { ctx, name: 'k6-1', url: admin, parallelism: 1, readyUrl: `${admin}/ready`, quitUrl: `${admin}/quitquitquit`, pod: callerPod(osm.workload(ctx), ctx.loadClient) };
    const [log] = await runK6PodsHere(k6Job(profile({ service: 'reviews', requests: 50, rps: 100 }), o));
    expect(k6OutputOfLog(log!, 0).samples).toHaveLength(50);
    expect(readyAt).toBeGreaterThan(0);
    expect(firstRequestAt).toBeGreaterThanOrEqual(readyAt);
  } finally {
    server.close();
  }
}, 60_000);

test("a k6 Job's output is read back from its pod's log through the API server (kwok serves it from a file) and merged as k6's own", async () => {
  const { callerPod, k6Job, k6JobOutputs } = await import('../src/targets/kube/k6-job.js');
  const { appContext, meshFor } = await import('../src/meshes/registry.js');
  const { profile } = await import('../src/load/profile.js');
  const { k6OutputOfLog, mergeK6 } = await import('../src/load/k6.js');
  const { runK6PodsHere } = await import('./helpers/k6-pods.js');
  // The pod's log: what its command printed here, the real k6 sending to a real server on loopback.
  const server = createServer((_req, res) => res.writeHead(200, { 'x-meshcheck-version': 'v1' }).end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const p = profile({ service: 'reviews', requests: 200, rps: 200 });
  const ctx = appContext('k6-logs', '1.31', 'run-1');
  const o = { ctx, name: 'k6-1', url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, parallelism: 1, pod: callerPod(meshFor('istio').mesh.workload(ctx), ctx.loadClient) };
  const [log] = await runK6PodsHere(k6Job(p, o));
  server.close();
  // As a container runtime writes it (the CRI log format the kubelet, and kwok, read): time, stream, tag, line.
  const at = new Date().toISOString();
  writeFileSync(cluster.k6LogFile, log!.split('\n').filter(Boolean).map((l) => `${at} stdout F ${l}\n`).join(''));
  // The Job in the cluster: kwok's node runs no container; its pod completes, and the log read through
  // the API server's pods/log comes from kwok's server at the node's kubelet address.
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'k6-logs' } } });
  try {
    await core.createNamespacedServiceAccount({ namespace: 'k6-logs', body: { metadata: { name: o.ctx.loadClient } } });
    const applier = new Applier(cluster.kubeconfig, new Ledger('k6-logs', join(tmpOut(), 'ledgers')), { kubeconfig: cluster.kubeconfigFile });
    const undo = await applier.apply(k6Job(p, o));
    const outputs = await k6JobOutputs(cluster.kubeconfig, 'k6-logs', 'k6-1', 60_000);
    const here = k6OutputOfLog(log!, 0);
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.code).toBe(0);
    expect(outputs[0]!.samples.length).toBeGreaterThan(150);
    expect(outputs[0]!.samples).toEqual(here.samples);
    expect(outputs[0]!.dropped).toBe(here.dropped);
    const r = mergeK6(p, outputs, Date.now(), 1000);
    expect(r.samples.length + r.dropped).toBe(200);
    expect(r.histogram.totalCount).toBe(r.samples.length);
    // Undone, the Job takes its pods with it (the API's default for a Job would leave them).
    await undo();
    await eventually(async () => (await core.listNamespacedPod({ namespace: 'k6-logs', labelSelector: 'meshcheck.io/load=k6-1' })).items.length === 0, { timeoutMs: 60_000, intervalMs: 250, describe: "the Job's pods gone with it" });
  } finally {
    writeFileSync(cluster.k6LogFile, '');
    await deleteNamespace('k6-logs');
  }
}, 120_000);

test("a k6-operator TestRun's runners are read back like a Job's pods (a stand-in creates the runners as the operator would), and a TestRun in stage error is named", async () => {
  const { callerPod, k6JobOutputs, k6TestRun, K6_REST_PORT, testRunFailure } = await import('../src/targets/kube/k6-job.js');
  const { appContext, meshFor } = await import('../src/meshes/registry.js');
  const { profile } = await import('../src/load/profile.js');
  const { k6OutputOfLog } = await import('../src/load/k6.js');
  const { runK6PodsHere } = await import('./helpers/k6-pods.js');
  const { CustomObjectsApi, BatchV1Api } = await import('@kubernetes/client-node');
  const server = createServer((_req, res) => res.writeHead(200, { 'x-meshcheck-version': 'v2' }).end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ctx = appContext('k6-testrun', '1.31', 'run-1');
  const istio = meshFor('istio').mesh;
  const caller = callerPod(istio.workload(ctx), ctx.loadClient);
  const p = profile({ service: 'reviews', requests: 200, rps: 200 });
  const objects = k6TestRun(p, { ctx, name: 'k6-1', url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, parallelism: 2, pod: { ...caller, annotations: { ...caller.annotations, ...istio.skipInbound(K6_REST_PORT) } } });
  const tr = objects[1] as unknown as {
    spec: {
      runner: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
      starter: { metadata: { annotations: Record<string, string> } };
    };
  };
  // Runners meshed as the caller, the starter able to reach their REST port past the sidecar, the starter outside the mesh.
  expect(tr.spec.runner.metadata.labels).toMatchObject({ app: 'loadclient', 'meshcheck.io/load': 'k6-1' });
  expect(tr.spec.runner.metadata.annotations['traffic.sidecar.istio.io/excludeInboundPorts']).toBe('6565');
  expect(tr.spec.starter.metadata.annotations['linkerd.io/inject']).toBe('disabled');
  // The pods' log: the real k6 running the TestRun's script here.
  const runner = (objects[1] as unknown as { spec: { runner: { env: { name: string; value: string }[] } } }).spec.runner;
  const [log] = await runK6PodsHere([
    objects[0]!,
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'k6-1' }, spec: { completions: 1, template: { spec: { containers: [{ name: 'k6', command: ['sh', '-c', 'k6 run --quiet --no-color --out json=- /scripts/requests.js'], env: runner.env }], volumes: [{ name: 'scripts', configMap: { name: 'k6-1-script' } }] } } } },
  ]);
  server.close();
  const at = new Date().toISOString();
  writeFileSync(cluster.k6LogFile, log!.split('\n').filter(Boolean).map((l) => `${at} stdout F ${l}\n`).join(''));
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'k6-testrun' } } });
  try {
    await core.createNamespacedServiceAccount({ namespace: 'k6-testrun', body: { metadata: { name: ctx.loadClient } } });
    const applier = new Applier(cluster.kubeconfig, new Ledger('k6-testrun', join(tmpOut(), 'ledgers')), { kubeconfig: cluster.kubeconfigFile });
    const undo = await applier.apply(objects);
    // A STAND-IN for k6-operator (none runs here): one runner Job per share, owned by the TestRun, its pods labelled as the TestRun's runner asks.
    const testRun = await cluster.client.read({ apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: 'k6-1', namespace: 'k6-testrun' } });
    const batch = cluster.kubeconfig.makeApiClient(BatchV1Api);
    for (const i of [1, 2]) {
      await batch.createNamespacedJob({ namespace: 'k6-testrun', body: {
        metadata: { name: `k6-1-${i}`, ownerReferences: [{ apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', name: 'k6-1', uid: testRun.metadata!.uid!, controller: true }] },
        spec: { backoffLimit: 0, template: { metadata: { labels: tr.spec.runner.metadata.labels }, spec: { restartPolicy: 'Never', serviceAccountName: ctx.loadClient, containers: [{ name: 'k6', image: 'k6' }] } } },
      } });
    }
    const outputs = await k6JobOutputs(cluster.kubeconfig, 'k6-testrun', 'k6-1', 60_000, 2, testRunFailure(cluster.kubeconfig, 'k6-testrun', 'k6-1'));
    const here = k6OutputOfLog(log!, 0);
    expect(outputs).toHaveLength(2);
    for (const o of outputs) expect(o.samples).toEqual(here.samples);
    // The operator's own verdict on the run, when it is "error", is the load's failure.
    const custom = cluster.kubeconfig.makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObjectStatus({ group: 'k6.io', version: 'v1alpha1', namespace: 'k6-testrun', plural: 'testruns', name: 'k6-1', body: { status: { stage: 'error', conditions: [{ type: 'TestRunRunning', status: 'False', reason: 'StandIn', message: 'runner 2 could not start', lastTransitionTime: at.replace(/\.\d+Z$/, 'Z') }] } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await expect(k6JobOutputs(cluster.kubeconfig, 'k6-testrun', 'k6-1', 30_000, 3, testRunFailure(cluster.kubeconfig, 'k6-testrun', 'k6-1'))).rejects.toThrow('the TestRun k6-1 ended in stage "error": TestRunRunning: StandIn runner 2 could not start');
    await undo();
    // Deleting the TestRun takes its runners with it.
    await eventually(async () => (await core.listNamespacedPod({ namespace: 'k6-testrun', labelSelector: 'meshcheck.io/load=k6-1' })).items.length === 0, { timeoutMs: 60_000, intervalMs: 250, describe: "the runners' pods gone with the TestRun" });
  } finally {
    writeFileSync(cluster.k6LogFile, '');
    await deleteNamespace('k6-testrun');
  }
}, 180_000);

test("OSM: its mesh-wide MeshConfig is changed only with --allow-changes-in osm-system; allowed, the change is waited on until every Envoy sidecar accepted OSM's push (stand-ins for OSM's injector, controller and Envoy admin here), then put back exactly; a push that never comes is BROKEN naming the sidecars", async () => {
  await namespacesGone();
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  // What OSM's install leaves: its namespace and the MeshConfig, which osm-bootstrap writes at its
  // start from the chart's preset-mesh-config.
  await core.createNamespace({ body: { metadata: { name: 'osm-system' } } });
  await cluster.client.create({ apiVersion: 'config.openservicemesh.io/v1alpha2', kind: 'MeshConfig', metadata: { name: 'osm-mesh-config', namespace: 'osm-system' }, spec: { traffic: { enablePermissiveTrafficPolicyMode: true } } } as KubernetesObject, undefined, undefined, 'osm-bootstrap');
  const standIn = await osmStandIn(cluster);
  try {
    const before = await snapshot();
    const outcome = async (extra: string[], env: Record<string, string> = {}) => {
      const out = tmpOut();
      const run = startCli(['run', 'features/authorization.feature:4', '--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile, '--no-progress', '--mesh', 'osm', '--out', out, ...extra], undefined, env);
      const code = await doneWithin(run, 250_000);
      const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as Record_;
      return { code, outcomes: record.scenarios.map((x) => x.outcome), error: record.scenarios[0]?.error ?? '', convergenceMs: record.scenarios[0]?.convergenceMs ?? [] };
    };
    const refused = await outcome([]);
    expect(refused).toMatchObject({ code: 3, outcomes: ['BROKEN'] });
    expect(refused.error).toMatch(/^this scenario would change MeshConfig osm-system\/osm-mesh-config outside the run's namespace meshcheck-\S+; meshcheck changes nothing there unless allowed: --allow-changes-in osm-system$/);
    await namespacesGone();
    expect(differences(before, await snapshot())).toEqual([]);

    const pushesBefore = standIn.versions.length;
    const allowed = await outcome(['--allow-changes-in', 'osm-system']);
    expect(allowed).toMatchObject({ code: 3, outcomes: ['BROKEN'] });
    expect(allowed.error).toMatch(/^no data plane on simulated nodes: .*osm's sidecars accepted its push, and it is undone$/);
    expect(allowed.error).not.toMatch(/cleanup:/);
    expect(allowed.convergenceMs).toHaveLength(1);
    // OSM's batching window and the quiet time after it: the wait cannot be shorter.
    expect(allowed.convergenceMs[0]).toBeGreaterThanOrEqual(5000);
    // One push for the change, one for its undo (at least).
    expect(standIn.versions.length - pushesBefore).toBeGreaterThanOrEqual(2);
    await namespacesGone();
    // The MeshConfig as osm-bootstrap left it, managedFields included; only its generation, which the API
    // server alone writes, moved twice (the change and its restore).
    const afterAllowed = await snapshot();
    const meshConfig = 'MeshConfig osm-system/osm-mesh-config';
    expect(afterAllowed.get(meshConfig)).toEqual(before.get(meshConfig)!.replace(/^ {2}generation: 1$/m, '  generation: 3'));
    afterAllowed.set(meshConfig, before.get(meshConfig)!);
    expect(differences(before, afterAllowed)).toEqual([]);

    standIn.pushes(false);
    const never = await outcome(['--allow-changes-in', 'osm-system'], { MESHCHECK_KUBE_IN_EFFECT_TIMEOUT_MS: '6000' });
    expect(never).toMatchObject({ code: 3, outcomes: ['BROKEN'] });
    expect(never.error).toMatch(/^timed out after 6000ms waiting for every Envoy sidecar of meshcheck-\S+ to accept OSM's push of the change: \d+ of \d+ sidecars have not accepted a push since the change: /);
    await namespacesGone();
    // The same after the undo that followed the wait that ran out: the MeshConfig's spec back (generation 5).
    const afterNever = await snapshot();
    expect(afterNever.get(meshConfig)).toEqual(before.get(meshConfig)!.replace(/^ {2}generation: 1$/m, '  generation: 5'));
    afterNever.set(meshConfig, before.get(meshConfig)!);
    expect(differences(before, afterNever)).toEqual([]);
  } finally {
    await standIn.stop();
    await deleteNamespace('osm-system');
  }
}, 900_000);

test('OSM cannot route by header: the scenario is NOT_SUPPORTED with the reason, skipped in Allure, nothing applied, exit 0', async () => {
  await namespacesGone();
  const out = tmpOut();
  const run = kube(['features/traffic-shifting.feature:14', '--mesh', 'osm', '--out', out]);
  const code = await run.done;
  expect({ code, stderr: code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(run.stderr).toMatch(/NOT_SUPPORTED.*HeaderRoute reviews.*no header matches/);
  const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as { mesh: string; target: string; scenarios: { outcome: string; notSupported?: string[] }[] };
  expect(record).toMatchObject({ mesh: 'osm', target: 'kube' });
  expect(record.scenarios.map((s) => s.outcome)).toEqual(['NOT_SUPPORTED']);
  expect(record.scenarios[0]!.notSupported![0]).toMatch(/TrafficSplit v1alpha2 only/);
  const dir = join(out, 'allure-results');
  const results = readdirSync(dir).filter((f) => f.endsWith('-result.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { status: string; labels: { name: string; value: string }[] });
  expect(results).toHaveLength(1);
  expect(results[0]!.status).toBe('skipped');
  expect(results[0]!.labels).toEqual(expect.arrayContaining([{ name: 'parentSuite', value: 'osm' }, { name: 'meshcheck_outcome', value: 'NOT_SUPPORTED' }]));
  const categories = JSON.parse(readFileSync(join(dir, 'categories.json'), 'utf8')) as { name: string; matchedStatuses: string[] }[];
  expect(categories).toContainEqual({ name: 'Not supported by mesh', matchedStatuses: ['skipped'] });
  const list = await cluster.client.list('v1', 'Namespace', undefined, undefined, undefined, undefined, undefined, 'app.kubernetes.io/managed-by=meshcheck');
  expect(list.items).toEqual([]);
}, 120_000);

test('bad kube options are usage errors naming the option (exit 2)', async () => {
  const cases: [string[], RegExp][] = [
    [['--target', 'kube', '--mesh', 'istio'], /--target kube needs --context/],
    [['--target', 'kube', '--context', 'nope', '--kubeconfig', cluster.kubeconfigFile, '--mesh', 'istio'], /--context nope: no such context/],
    [['--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile], /--mesh reference runs on the local target only/],
    [['--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile, '--mesh', 'istio', '--allow-changes-in', 'Bad_NS'], /--allow-changes-in: "Bad_NS" is not a namespace name/],
    [['--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile, '--mesh', 'istio', '--istiod-url', 'istiod:15014'], /--istiod-url istiod:15014: not an http\(s\) URL/],
    [['--istiod-url', 'http://127.0.0.1:15014'], /--istiod-url is for --target kube/],
    [['--mesh', 'linkerd'], /--mesh linkerd: the local target runs the reference mesh and real Istio \(--mesh istio\) only/],
    [['--mesh', 'istio', '--load-engine', 'k6'], /--load-engine k6 with --mesh istio on the local target/],
    [['--mesh', 'istio@1.29'], /--mesh istio@1\.29: the local Istio tier runs the istiod builds of scripts\/build-istio.sh \(istio@1\.31, istio@1\.30\)/],
    [['--mesh', 'kuma'], /--mesh kuma: unknown mesh/],
  ];
  for (const [args, message] of cases) {
    const run = startCli(['run', ...args, '--no-progress']);
    expect({ code: await run.done, args }).toEqual({ code: 2, args });
    expect(run.stderr).toMatch(message);
  }
}, 60_000);

test("Consul: applied, waited on until consul-k8s's Synced status says the entries are in Consul (a stand-in writes it here), undone; a failed sync is BROKEN with Consul's reason", async () => {
  await namespacesGone();
  const before = await snapshot();
  const kinds = ['servicedefaults', 'serviceresolvers', 'servicesplitters', 'servicerouters', 'serviceintentions'].map((plural) => ({ plural, version: 'v1alpha1' }));
  const consul = async (fail: Record<string, string>, env: Record<string, string> = {}, feature = 'features/traffic-shifting.feature:4') => {
    const standIn = consulStandIn(cluster.kubeconfig, kinds, fail);
    const out = tmpOut();
    try {
      const run = startCli(['run', feature, '--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile, '--no-progress', '--mesh', 'consul', '--out', out], undefined, env);
      const code = await doneWithin(run, 200_000);
      const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as Record_;
      return { code, record, synced: standIn.synced, lastGeneration: standIn.lastGeneration, stderr: run.stderr };
    } finally {
      await standIn.stop();
    }
  };
  const ok = await consul({});
  expect(ok.code).toBe(3);
  expect(ok.record.scenarios.map((s) => s.outcome)).toEqual(['BROKEN']);
  expect(ok.record.scenarios[0]!.error).toMatch(/^no data plane on simulated nodes: .*consul's controllers reported it in effect, and it is undone$/);
  expect(ok.record.scenarios[0]!.convergenceMs).toHaveLength(1);
  // The scenario's splitter was synced (and the wait saw it) before the run went on.
  expect(ok.synced).toContain('ServiceSplitter reviews True');
  await namespacesGone();
  // The workload's own intentions for reviews are replaced by the scenario's (only productpage may
  // call) and put back by the undo, which waits until consul-k8s has synced them again.
  const authz = await consul({}, { MESHCHECK_KUBE_IN_EFFECT_TIMEOUT_MS: '30000' }, 'features/authorization.feature:4');
  expect(authz.code).toBe(3);
  expect(authz.record.scenarios[0]!.error).toMatch(/^no data plane on simulated nodes: .*consul's controllers reported it in effect, and it is undone$/);
  expect(authz.record.scenarios[0]!.error).not.toMatch(/cleanup:/);
  // The last status written was for the undo's restore: generation 3 (the workload's, the scenario's, the restore).
  expect(authz.lastGeneration.get('ServiceIntentions reviews')).toBe(3);
  await namespacesGone();
  const refused = await consul({ ServiceSplitter: 'writing config entry to consul: Unexpected response code: 500 (stand-in refusal)' }, { MESHCHECK_KUBE_IN_EFFECT_TIMEOUT_MS: '4000' });
  expect(refused.code).toBe(3);
  expect(refused.record.scenarios[0]!.error).toMatch(/^timed out after 4000ms waiting for consul to have the change in effect: ServiceSplitter meshcheck-\S+\/reviews: Synced False: ConsulAgentError: writing config entry to consul: Unexpected response code: 500 \(stand-in refusal\)$/);
  await namespacesGone();
  expect(differences(before, await snapshot())).toEqual([]);
}, 480_000);

test("Linkerd: inbound policy (Server, AuthorizationPolicy, MeshTLSAuthentication), the namespace's default policy after the pods restart, and a ServiceProfile before 2.16, each waited on until Linkerd's controllers serve it (a stand-in serves Linkerd's gRPC APIs here, reached by port-forward to the destination pod), undone; a policy never served is BROKEN naming it", async () => {
  await namespacesGone();
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  // The destination Deployment a Linkerd install has, as a STAND-IN pod on kwok: a port-forward to its
  // port 8090 reaches the stand-in policy controller (kwok forwards it to linkerdPolicyPortFile's port).
  await core.createNamespace({ body: { metadata: { name: 'linkerd' } } });
  const labels = { 'linkerd.io/control-plane-component': 'destination' };
  await cluster.client.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'linkerd-destination', namespace: 'linkerd' }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'policy', image: 'policy-controller-stand-in', ports: [{ name: 'grpc', containerPort: 8090 }] }] } } } } as KubernetesObject);
  await eventually(async () => (await core.listNamespacedPod({ namespace: 'linkerd' })).items.some((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')), { timeoutMs: 60_000, intervalMs: 250, describe: 'the stand-in destination pod Ready' });
  try {
    const before = await snapshot();
    const runIt = async (feature: string, leaveOut: string[] = [], env: Record<string, string> = {}, clusterDefault?: string, mesh = 'linkerd') => {
      const standIn = await linkerdStandIn(cluster.kubeconfig, cluster.client, cluster.dir, cluster.linkerdPolicyPortFile, leaveOut, clusterDefault);
      const out = tmpOut();
      try {
        const run = startCli(['run', feature, '--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile, '--no-progress', '--mesh', mesh, '--out', out], undefined, env);
        const code = await doneWithin(run, 300_000);
        return { code, served: standIn.served, stderr: run.stderr, record: JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as Record_ };
      } finally {
        await standIn.stop();
      }
    };
    // Only productpage may call reviews: a Server on reviews' http port, a MeshTLSAuthentication and an AuthorizationPolicy.
    const ok = await runIt('features/authorization.feature:4');
    expect(ok.code).toBe(3);
    expect(ok.record.scenarios[0]!.error).toMatch(/^no data plane on simulated nodes: .*linkerd's controllers reported it in effect and its policy controller serves it, and it is undone$/);
    expect(ok.record.scenarios[0]!.error).not.toMatch(/cleanup:/);
    expect(ok.record.scenarios[0]!.convergenceMs).toHaveLength(1);
    expect([...ok.served].some((x) => /^Server meshcheck-\S+\/reviews-http$/.test(x))).toBe(true);
    expect((ok.record.targetInfo as unknown as { linkerdPolicyController: string }).linkerdPolicyController).toMatch(/^port-forward to pod linkerd\/linkerd-destination-\S+:8090$/);
    await namespacesGone();
    // STRICT for reviews: the Server's accessPolicy all-authenticated, served as that default authorization.
    const strict = await runIt('features/mtls.feature:4');
    expect(strict.record.scenarios[0]!.error).toMatch(/^no data plane on simulated nodes: .*its policy controller serves it, and it is undone$/);
    await namespacesGone();
    // PERMISSIVE for the namespace, on a cluster whose install default is cluster-unauthenticated: the
    // namespace's default policy is read when a pod starts, so the app's pods are restarted, and the
    // controller serves their http port from all-unauthenticated; the undo restarts them again and
    // they are served from the cluster's default once more.
    const namespaceWide = await runIt('features/mtls.feature:11', [], {}, 'cluster-unauthenticated');
    expect(namespaceWide.code).toBe(3);
    expect(namespaceWide.record.scenarios[0]!.error).toMatch(/^no data plane on simulated nodes: .*linkerd's controllers reported it in effect and its policy controller serves it and the app's pods restarted to read it, and it is undone$/);
    expect(namespaceWide.stderr.match(/kube: restarting the app's pods: linkerd reads Namespace meshcheck-\S+ when a pod starts/g)).toHaveLength(2);
    expect(namespaceWide.record.scenarios[0]!.error).not.toMatch(/cleanup:/);
    await namespacesGone();
    // Linkerd 2.15: retries from a ServiceProfile, read back from the destination controller (its port
    // 8086 on the same pod).
    const profile = await runIt('test/fixtures/profile/retries.feature', [], {}, undefined, 'linkerd@2.15');
    expect(profile.code).toBe(3);
    expect(profile.record.scenarios[0]!.error).toMatch(/^no data plane on simulated nodes: .*linkerd's controllers reported it in effect and its policy controller serves it, and it is undone$/);
    expect([...profile.served].some((x) => /^ServiceProfile meshcheck-\S+\/reviews\.meshcheck-\S+\.svc\.cluster\.local$/.test(x))).toBe(true);
    expect(profile.record.scenarios[0]!.error).not.toMatch(/cleanup:/);
    await namespacesGone();
    // The controller never serves the AuthorizationPolicy (as when it cannot resolve its authentication).
    const never = await runIt('features/authorization.feature:4', ['reviews-allow'], { MESHCHECK_KUBE_IN_EFFECT_TIMEOUT_MS: '4000' });
    expect(never.code).toBe(3);
    expect(never.record.scenarios[0]!.outcome).toBe('BROKEN');
    expect(never.record.scenarios[0]!.error).toMatch(/^timed out after 4000ms waiting for Linkerd's policy controller to serve the change \(port-forward to pod linkerd\/linkerd-destination-\S+:8090\): meshcheck-\S+:reviews-v\d-\S+ port 9080: AuthorizationPolicy reviews-allow not served yet \(served: none;/);
    await namespacesGone();
    expect(differences(before, await snapshot())).toEqual([]);
  } finally {
    await deleteNamespace('linkerd');
  }
}, 900_000);

test("the mesh control plane stopped: its Deployment scaled to zero only with --allow-changes-in its namespace, ledgered, and put back exactly", async () => {
  await namespacesGone();
  // A STAND-IN for istiod's Deployment (the tier's istiod runs as a process here, not a pod): what
  // meshcheck scales is the Deployment clusters/profiles/istio.yaml installs.
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  // The tier's istiod keeps its own things in istio-system, which may be there already.
  const made = await core.createNamespace({ body: { metadata: { name: 'istio-system' } } }).then(() => true, (err: { code?: number }) => {
    if (err.code === 409) return false;
    throw err;
  });
  await cluster.client.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: 'istio-system' }, spec: { replicas: 2, selector: { matchLabels: { app: 'istiod' } }, template: { metadata: { labels: { app: 'istiod' } }, spec: { containers: [{ name: 'discovery', image: 'istiod-stand-in:1.31-dev' }] } } } } as KubernetesObject, undefined, undefined, 'helm');
  const istiod = async () => {
    const d = (await cluster.client.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: 'istio-system' } })) as KubernetesObject & { status?: unknown };
    delete d.metadata!.resourceVersion;
    delete d.metadata!.generation;
    delete d.status;
    // The controller's own status writes (their times) are not a change anyone made.
    d.metadata!.managedFields = d.metadata!.managedFields?.filter((m) => m.subresource !== 'status');
    return d;
  };
  try {
    const before = await snapshot();
    const deployment = await istiod();
    const runIt = async (extra: string[]) => {
      const out = tmpOut();
      // No --istiod-url: istiod is reached by a port-forward to its pod (kwok forwards it to the tier's
      // istiod), and again to the new pod once its control plane has been stopped and started.
      const run = kube(['features/control-plane.feature', '--mesh', 'istio', '--out', out, ...extra]);
      const code = await doneWithin(run, 300_000);
      return { code, stderr: run.stderr, record: JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as Record_ };
    };
    // Asked for 1.30 against a control plane whose image says 1.31: said, with both ways out.
    const refused = await runIt(['--mesh', 'istio@1.30']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('kube: istio control plane: Deployment istio-system/istiod runs istiod-stand-in:1.31-dev');
    expect(refused.stderr).toContain('kube: warning: --mesh istio@1.30 renders for istio 1.30, but its control plane\'s image is of 1.31: install --mesh istio@1.31, or run --mesh istio@1.31');
    expect(refused.record.scenarios[0]!.error).toMatch(/^this scenario would change Deployment istio-system\/istiod outside the run's namespace meshcheck-\S+; meshcheck changes nothing there unless allowed: --allow-changes-in istio-system/);
    await namespacesGone();
    expect(differences(before, await snapshot())).toEqual([]);

    const allowed = await runIt(['--allow-changes-in', 'istio-system']);
    expect(allowed.code).toBe(3);
    expect(allowed.record.scenarios.map((x) => x.outcome)).toEqual(['BROKEN', 'BROKEN']);
    for (const x of allowed.record.scenarios) expect(x.error).toMatch(/^no data plane on simulated nodes: .*istiod held it, and it is undone$/);
    expect((allowed.record.targetInfo as unknown as { istiod: string }).istiod).toMatch(/^port-forward to pod istio-system\/istiod-\S+:15014$/);
    // The record says what the control plane ran (the gate shows it beside each run).
    expect((allowed.record.targetInfo as unknown as { controlPlane: unknown }).controlPlane).toEqual([{ workload: 'Deployment istio-system/istiod', images: ['istiod-stand-in:1.31-dev'] }]);
    expect(allowed.stderr).not.toContain('kube: warning: --mesh');
    // Stopped (both replicas gone) before the load, started again by the undo.
    expect(allowed.stderr).toMatch(/kube: stopping the istio control plane \(Deployment istio-system\/istiod scaled to zero\)\n[\s\S]*kube: starting the istio control plane again/);
    await namespacesGone();
    // The Deployment exactly as it was (its generation moved twice); its pods are new, as a stop and a
    // start make them, and its ReplicaSet's replica count went down and up with them.
    expect(await istiod()).toEqual(deployment);
    expect(differences(before, await snapshot()).filter((d) => !/^(Deployment istio-system\/istiod|ReplicaSet istio-system\/istiod-\S+|Pod istio-system\/istiod-\S+): /.test(d))).toEqual([]);
  } finally {
    await cluster.client.delete({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: 'istio-system' } });
    if (made) await deleteNamespace('istio-system');
  }
}, 700_000);

// Last: after the restart the cluster's own controllers (kwok's included) reconnect in their own time.
test('the API server restarting in the middle of a run: meshcheck retries, the run ends as it would have, and every object is as it was', async () => {
  await namespacesGone();
  const before = await snapshot();
  const out = tmpOut();
  const run = kube(['features/traffic-shifting.feature:4', '--mesh', 'istio', '--istiod-url', istiodUrl, '--out', out]);
  // Restarted as soon as the run's namespace exists: the workload is being applied and rolled out.
  await eventually(async () => (await cluster.client.list('v1', 'Namespace', undefined, undefined, undefined, undefined, undefined, 'app.kubernetes.io/managed-by=meshcheck')).items.length > 0, { timeoutMs: 120_000, intervalMs: 20, describe: "the run's namespace" });
  const awayMs = await cluster.restartApiServer();
  // Still running once the server is back: the outage fell inside the run.
  expect(run.child.exitCode).toBeNull();
  const code = await doneWithin(run, 200_000);
  expect({ code, stderr: code === 3 ? '' : run.stderr }).toEqual({ code: 3, stderr: '' });
  const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as Record_;
  expect(record.scenarios.map((s) => s.outcome)).toEqual(['BROKEN']);
  expect(record.scenarios[0]!.error).toMatch(/^no data plane on simulated nodes: .*istiod held it, and it is undone$/);
  expect(awayMs).toBeGreaterThan(0);
  await namespacesGone();
  expect(differences(before, await snapshot())).toEqual([]);
}, 300_000);
