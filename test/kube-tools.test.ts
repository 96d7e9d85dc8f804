/**
 * On a real API server with kwok's simulated node:
 * - the kube target's reach into single instances: each instance's echo workload at its direct port
 *   by a port-forward (pods/portforward; kwok, standing in for the node's kubelet, forwards it to a
 *   real echo process here); the node proxy to cAdvisor, refused on loopback, named;
 * - `meshcheck install`: real helm and kubectl (scripts/build-kube-tools.sh) installing Istio's own
 *   charts (from the istio module the Istio tier builds), waited on until ready, again with no
 *   change, then uninstalled.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { request } from 'undici';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { toolsBin } from '../src/kube/tools.js';
import { startTestCluster, type TestCluster } from '../src/kube/test-cluster.js';
import { appContext, adapterFor } from '../src/adapters/registry.js';
import { Applier } from '../src/kube/apply.js';
import { Ledger } from '../src/ledger/ledger.js';
import { eventually } from '../src/util/eventually.js';
import { PodInstances } from '../src/targets/kube/instances.js';
import { sidecarUsage, throughNodeProxy } from '../src/targets/kube/usage.js';
import { doneWithin, startCli, tmpOut } from './helpers/cli.js';
import { startEcho, type EchoProcess } from './helpers/echo.js';

let cluster: TestCluster;
let echo: EchoProcess;
const NS = 'meshcheck-instances';
const ctx = appContext(NS, '1.30', 'run-instances');

beforeAll(async () => {
  cluster = await startTestCluster(undefined, 1);
  echo = await startEcho({ service: 'reviews', version: 'v1', instance: 'here', directPort: cluster.echoDirectPort });
}, 240_000);

afterAll(async () => {
  await echo?.stop();
  await cluster?.stop();
});

test('the instances are the Ready pods of each service; one is told to fail through a port-forward, counts its failures, and is set back', async () => {
  const applier = new Applier(cluster.kubeconfig, new Ledger('instances', join(tmpOut(), 'ledgers')), { kubeconfig: cluster.kubeconfigFile });
  // The Istio-shaped workload, its pods simulated by kwok.
  const undo = await applier.apply(adapterFor('istio').adapter.workload(ctx));
  const pods = new PodInstances(cluster.kubeconfig, ctx);
  try {
    await eventually(async () => (await pods.refresh()).length === 5, { timeoutMs: 90_000, intervalMs: 500, describe: 'the five app pods Ready' });
    expect(pods.of('reviews').map((i) => i.version)).toEqual(['v1', 'v2', 'v3']);
    const one = pods.of('reviews')[0]!;
    expect(one).toMatchObject({ service: 'reviews', identity: `spiffe://cluster.local/ns/${NS}/sa/reviews`, node: 'kwok-node-0' });
    expect(one.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    // API server -> kwok (the node's kubelet) -> the echo process's direct port.
    expect(await pods.behave(one.name, { failStatus: 503 })).toEqual({ failStatus: 503, failed: 0 });
    const r = await request(`http://127.0.0.1:${echo.port}/`);
    expect(r.statusCode).toBe(503);
    await r.body.dump();
    expect(await pods.failed(one.name)).toBe(1);
    await pods.behave(one.name, {});
    expect((await request(`http://127.0.0.1:${echo.port}/`)).statusCode).toBe(200);

    // Sidecar CPU and memory come from cAdvisor through the node proxy. The API server does not proxy
    // to a node on loopback, as kwok's are here: the refusal is named (the reading: usage.test.ts).
    await expect(sidecarUsage(throughNodeProxy(cluster.kubeconfig), NS, 'app', pods.all)).rejects.toThrow(/^sidecar CPU and memory: reading cAdvisor on node kwok-node-0 \(nodes\/proxy, metrics\/cadvisor\): 400 address not allowed$/);
  } finally {
    pods.close();
    await undo();
    const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
    await eventually(() => core.readNamespace({ name: NS }).then(() => false, () => true), { timeoutMs: 60_000, intervalMs: 250, describe: `namespace ${NS} deleted` });
  }
}, 200_000);

/** Istio's charts as the istio module at the Istio tier's pinned version holds them (chart version 1.0.0: a development tree). */
function istioCharts(): string {
  const mod = execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', 'istio.io/istio'], { cwd: join(process.cwd(), 'go', 'proxyless'), encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'meshcheck-charts-'));
  symlinkSync(join(mod, 'manifests', 'charts', 'base'), join(dir, 'base'));
  symlinkSync(join(mod, 'manifests', 'charts', 'istio-control', 'istio-discovery'), join(dir, 'istiod'));
  return dir;
}

const install = async (args: string[], env: Record<string, string> = {}) => {
  const run = startCli(['install', '--mesh', 'istio', '--context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile, ...args], undefined, env);
  const code = await doneWithin(run, 280_000);
  return { code, err: run.stderr };
};

test('meshcheck install: helm installs the profile\'s charts in order and waits until ready; again changes nothing; --uninstall removes them and the namespace it made', async () => {
  const charts = istioCharts();
  const helm = (...a: string[]) => execFileSync(join(toolsBin(), 'helm'), [...a, '--kube-context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile], { encoding: 'utf8' });
  const first = await install(['--charts', charts, '--with', 'none', '--timeout', '180s']);
  expect(first.err).toMatch(/\[1\/2\] istio: istio-base \(chart base 1\.30\.3\) in istio-system: ready in [\d.]+ s/);
  expect(first.err).toMatch(/\[2\/2\] istio: istiod \(chart istiod 1\.30\.3\) in istio-system: ready in [\d.]+ s/);
  expect(first.err).toMatch(/next: meshcheck run --target kube --context meshcheck-test --mesh istio@1\.30\n/);
  expect(first.code).toBe(0);
  const releases = JSON.parse(helm('list', '-n', 'istio-system', '-o', 'json')) as { name: string; status: string }[];
  expect(releases.map((r) => `${r.name} ${r.status}`).sort()).toEqual(['istio-base deployed', 'istiod deployed']);
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  expect((await core.readNamespace({ name: 'istio-system' })).metadata?.labels?.['meshcheck.io/installed-by']).toBe('meshcheck');

  const again = await install(['--charts', charts, '--with', 'none']);
  expect(again.code).toBe(0);
  expect(again.err.match(/deployed already, left as it is/g)).toHaveLength(2);

  const gone = await install(['--uninstall', '--with', 'none', '--timeout', '120s']);
  expect(gone.code).toBe(0);
  expect(JSON.parse(helm('list', '-A', '-o', 'json'))).toEqual([]);
  await eventually(() => core.readNamespace({ name: 'istio-system' }).then(() => false, () => true), { timeoutMs: 60_000, intervalMs: 500, describe: 'istio-system deleted' });
}, 600_000);

test('meshcheck install --dry-run prints the pinned charts from their repositories; a missing helm is named with how to get it (exit 3)', async () => {
  const dry = await install(['--dry-run']);
  expect(dry.code).toBe(0);
  expect(dry.err).toMatch(/helm upgrade --install istiod istiod --repo https:\/\/istio-release\.storage\.googleapis\.com\/charts --version 1\.30\.3 --namespace istio-system --kube-context meshcheck-test/);
  expect(dry.err).toMatch(/helm upgrade --install prometheus prometheus --repo https:\/\/prometheus-community\.github\.io\/helm-charts --version 25\.27\.0 --namespace monitoring/);
  const empty = mkdtempSync(join(tmpdir(), 'meshcheck-no-tools-'));
  mkdirSync(join(empty, 'bin'));
  const missing = await install(['--with', 'none'], { PATH: '/usr/bin:/bin', MESHCHECK_TOOLS_DIR: empty });
  expect(missing.code).toBe(3);
  expect(missing.err).toMatch(/helm is not installed \(not on PATH, not in .*\): install Helm 3 or 4 .*or run: bash scripts\/build-kube-tools\.sh/);
  const noCharts = await install(['--with', 'none', '--charts', empty]);
  expect(noCharts.code).toBe(2);
  expect(noCharts.err).toMatch(/--charts .*: neither base\/ nor base-1\.30\.3\.tgz is there \(helm pull base --repo https:\/\/istio-release\.storage\.googleapis\.com\/charts --version 1\.30\.3 makes the archive\)/);
  const bad = await install(['--with', 'grafana']);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/--with grafana: no such add-on profile \(clusters\/profiles has metrics-server, prometheus; or none\)/);
}, 120_000);
