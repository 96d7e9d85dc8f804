/**
 * On a real API server with kwok's simulated node:
 * - the kube target's reach into single instances: each instance's echo workload at its direct port
 *   by a port-forward (pods/portforward; kwok, standing in for the node's kubelet, forwards it to a
 *   real echo process here); the node proxy to cAdvisor, refused on loopback, named;
 * - `meshcheck install`: real helm and kubectl (scripts/build-kube-tools.sh) installing Istio's own
 *   charts (from the istio module the Istio tier builds), waited on until ready, again with no
 *   change, then uninstalled; OSM's chart at the pinned 1.2.4 and metrics-server's, from their Go
 *   modules; the Linkerd profile's upgrade and Gateway API handling with STAND-IN charts (Linkerd's
 *   charts are not served here), written by the test and named as such.
 */
import { ApiextensionsV1Api, CoreV1Api, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { request } from 'undici';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseAllDocuments, stringify } from 'yaml';
import { toolsBin } from '../src/util/tools.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { appContext, meshFor } from '../src/meshes/registry.js';
import { Applier } from '../src/kube/apply.js';
import { Ledger } from '../src/ledger/ledger.js';
import { eventually } from '../src/util/eventually.js';
import { PodInstances } from '../src/targets/kube/instances.js';
import { sidecarUsage, throughNodeProxy } from '../src/targets/kube/usage.js';
import { doneWithin, startCli, tmpOut } from './helpers/cli.js';
import { startEcho, type EchoProcess } from './helpers/echo.js';
import { istioCharts } from './helpers/istio-charts.js';

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
  const undo = await applier.apply(meshFor('istio').mesh.workload(ctx));
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

const installMesh = async (mesh: string, args: string[], env: Record<string, string> = {}) => {
  const run = startCli(['install', '--mesh', mesh, '--context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile, ...args], undefined, env);
  const code = await doneWithin(run, 280_000);
  return { code, err: run.stderr };
};
const install = (args: string[], env: Record<string, string> = {}) => installMesh('istio', args, env);
const helm = (...a: string[]) => execFileSync(join(toolsBin(), 'helm'), [...a, '--kube-context', 'meshcheck-test', '--kubeconfig', cluster.kubeconfigFile], { encoding: 'utf8' });

test('meshcheck install: helm installs the profile\'s charts in order and waits until ready; again changes nothing; --uninstall removes them and the namespace it made', async () => {
  const charts = istioCharts();
  const first = await install(['--charts', charts, '--with', 'none', '--timeout', '180s']);
  expect(first.err).toMatch(/\[1\/2\] istio: istio-base \(chart base 1\.0\.0 from --charts\) in istio-system: the profile pins 1\.30\.3; installing the chart from --charts as it is/);
  expect(first.err).toMatch(/\[1\/2\] istio: istio-base \(chart base 1\.0\.0 from --charts\) in istio-system: ready in [\d.]+ s/);
  expect(first.err).toMatch(/\[2\/2\] istio: istiod \(chart istiod 1\.0\.0 from --charts\) in istio-system: ready in [\d.]+ s/);
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
  expect(dry.err).toMatch(/helm upgrade --install prometheus prometheus --repo https:\/\/prometheus-community\.github\.io\/helm-charts --version 29\.27\.0 --namespace monitoring/);
  const dry131 = await installMesh('istio@1.31', ['--dry-run', '--with', 'none']);
  expect(dry131.code).toBe(0);
  expect(dry131.err).toMatch(/helm upgrade --install istiod istiod --repo https:\/\/istio-release\.storage\.googleapis\.com\/charts --version 1\.31\.0 /);
  expect(dry131.err).toMatch(/next: meshcheck run --target kube --context meshcheck-test --mesh istio@1\.31\n/);
  // A canary revision beside the installed one: istiod-1-31 with revision 1-31, istio-base shared; its uninstall removes istiod-1-31 alone.
  const canary = await installMesh('istio@1.31', ['--dry-run', '--with', 'none', '--revision', '1-31']);
  expect(canary.code).toBe(0);
  expect(canary.err).toMatch(/helm upgrade --install istio-base base --repo \S+ --version 1\.31\.0 /);
  expect(canary.err).toMatch(/helm upgrade --install istiod-1-31 istiod --repo \S+ --version 1\.31\.0 /);
  const canaryGone = await installMesh('istio@1.31', ['--dry-run', '--uninstall', '--revision', '1-31']);
  expect(canaryGone.code).toBe(0);
  expect(canaryGone.err.trim().split('\n').map((l) => l.replace(/^meshcheck install: /, '').split(' --')[0])).toEqual(['helm uninstall istiod-1-31']);
  const badRevision = await installMesh('istio', ['--dry-run', '--revision', 'One.31']);
  expect(badRevision.code).toBe(2);
  expect(badRevision.err).toContain('--revision One.31: a revision is a DNS label');
  const dry129 = await installMesh('istio@1.29', ['--dry-run', '--with', 'none']);
  expect(dry129.code).toBe(2);
  expect(dry129.err).toMatch(/--mesh istio@1\.29: install pins istio@1\.30, istio@1\.31 /);
  const dryLinkerd = await installMesh('linkerd', ['--dry-run', '--with', 'none']);
  expect(dryLinkerd.code).toBe(0);
  expect(dryLinkerd.err).toMatch(/\[1\/2\] linkerd: linkerd-crds \(chart linkerd-crds 2026\.8\.3\) in linkerd: where the cluster has no CRD httproutes\.gateway\.networking\.k8s\.io \(or it is this release's\), also \{ installGatewayAPI: true \}\n/);
  const empty = mkdtempSync(join(tmpdir(), 'meshcheck-no-tools-'));
  mkdirSync(join(empty, 'bin'));
  const missing = await install(['--with', 'none'], { PATH: '/usr/bin:/bin', MESHCHECK_TOOLS_DIR: empty });
  expect(missing.code).toBe(3);
  expect(missing.err).toMatch(/helm is not installed \(not on PATH, not in .*\): install Helm 3\.14 or later, or Helm 4 .*or run: bash scripts\/build-kube-tools\.sh/);
  const noCharts = await install(['--with', 'none', '--charts', empty]);
  expect(noCharts.code).toBe(2);
  expect(noCharts.err).toMatch(/--charts .*: neither base\/ nor base-1\.30\.3\.tgz is there \(helm pull base --repo https:\/\/istio-release\.storage\.googleapis\.com\/charts --version 1\.30\.3 makes the archive\)/);
  const bad = await install(['--with', 'grafana']);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/--with grafana: no such add-on profile \(clusters\/profiles has metrics-server, prometheus; or none\)/);
}, 120_000);

/** A module's folder in the Go module cache, downloaded through the Go module proxy where it is not there yet. */
function goModule(modAtVersion: string): string {
  const out = execFileSync('go', ['mod', 'download', '-json', modAtVersion], { cwd: tmpdir(), encoding: 'utf8' });
  const { Dir, Error: error } = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!Dir) throw new Error(`go mod download ${modAtVersion}: ${error ?? out}`);
  return Dir;
}

/**
 * STAND-IN charts named like Linkerd's two (Linkerd's own are not served by any registry this machine
 * reaches), made for this test: linkerd-crds installs the Gateway API's real HTTPRoute CRD (from
 * clusters/crds) when installGatewayAPI is set, as the real chart does; linkerd-control-plane keeps
 * the identity values it is given in a Secret and some settings in a ConfigMap. The later version adds
 * a value with a default that its template needs, as new chart versions do.
 */
function linkerdStandIns(version: string, addsValue: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshcheck-linkerd-stand-in-'));
  const chart = (name: string, values: object, template: string) => {
    mkdirSync(join(dir, name, 'templates'), { recursive: true });
    writeFileSync(join(dir, name, 'Chart.yaml'), stringify({ apiVersion: 'v2', name, version, description: 'a STAND-IN for Linkerd\'s chart, for meshcheck\'s tests' }));
    writeFileSync(join(dir, name, 'values.yaml'), stringify(values));
    writeFileSync(join(dir, name, 'templates', 'stand-in.yaml'), template);
  };
  chart('linkerd-crds', { installGatewayAPI: false }, `{{- if .Values.installGatewayAPI }}\n${stringify(gatewayHttpRouteCrd())}{{- end }}\n`);
  chart('linkerd-control-plane', { identityTrustAnchorsPEM: '', identity: { issuer: { tls: { crtPEM: '', keyPEM: '' } } }, proxy: { nativeSidecar: false }, ...(addsValue ? { addedLater: { setting: 'the new default' } } : {}) },
    'apiVersion: v1\nkind: Secret\nmetadata:\n  name: stand-in-identity\nstringData:\n  trustAnchor: {{ .Values.identityTrustAnchorsPEM | quote }}\n  issuer: {{ .Values.identity.issuer.tls.crtPEM | quote }}\n---\n'
    + `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stand-in-settings\ndata:\n  nativeSidecar: {{ .Values.proxy.nativeSidecar | quote }}\n${addsValue ? '  addedLater: {{ .Values.addedLater.setting | quote }}\n' : ''}`);
  return dir;
}

/** The Gateway API's HTTPRoute CRD, as clusters/crds has it. */
function gatewayHttpRouteCrd(): V1CustomResourceDefinition {
  const docs = parseAllDocuments(readFileSync(join(process.cwd(), 'clusters', 'crds', 'gateway-api', 'standard.yaml'), 'utf8')).map((d) => d.toJS() as V1CustomResourceDefinition);
  return docs.find((d) => d.metadata?.name === 'httproutes.gateway.networking.k8s.io')!;
}

test('meshcheck install, Linkerd profile (STAND-IN charts): the Gateway API CRDs come with linkerd-crds where the cluster has none and stay on upgrade; an upgrade keeps the identity and takes the new chart\'s defaults; a cluster\'s own Gateway API is left to it', async () => {
  const CRD = 'httproutes.gateway.networking.k8s.io';
  const ext = cluster.kubeconfig.makeApiClient(ApiextensionsV1Api);
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  const crd = () => ext.readCustomResourceDefinition({ name: CRD }).then((c) => c, () => undefined);
  const secret = async () => {
    const data = (await core.readNamespacedSecret({ name: 'stand-in-identity', namespace: 'linkerd' })).data ?? {};
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  };
  const settings = async () => (await core.readNamespacedConfigMap({ name: 'stand-in-settings', namespace: 'linkerd' })).data;
  const older = linkerdStandIns('2026.8.2', false);
  const pinned = linkerdStandIns('2026.8.3', true);
  expect(await crd()).toBeUndefined();

  const first = await installMesh('linkerd', ['--charts', older, '--with', 'none', '--timeout', '120s']);
  expect(first.code).toBe(0);
  expect(first.err).toMatch(/\[1\/2\] linkerd: linkerd-crds \(chart linkerd-crds 2026\.8\.2 from --charts\) in linkerd: the profile pins 2026\.8\.3; installing the chart from --charts as it is/);
  expect(first.err).toMatch(/linkerd-crds .*: the cluster has no CRD httproutes\.gateway\.networking\.k8s\.io: the chart installs it \(\{ installGatewayAPI: true \}\)/);
  expect((await crd())?.metadata?.annotations?.['meta.helm.sh/release-name']).toBe('linkerd-crds');
  const identity = await secret();
  expect(identity.trustAnchor).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  expect(identity.issuer).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  expect(await settings()).toEqual({ nativeSidecar: 'true' });

  // The upgrade: the CRDs the release installed are kept (not deleted by a values change), the
  // identity is the one installed first, and the value the new chart adds has its default.
  const uid = (await crd())?.metadata?.uid;
  const upgrade = await installMesh('linkerd', ['--charts', pinned, '--with', 'none', '--timeout', '120s']);
  expect(upgrade.code).toBe(0);
  expect(upgrade.err).toMatch(/\[1\/2\] linkerd: linkerd-crds \(chart linkerd-crds 2026\.8\.3 from --charts\) in linkerd: 2026\.8\.2 is deployed: upgrading/);
  expect(upgrade.err).toMatch(/linkerd-crds .*: CRD httproutes\.gateway\.networking\.k8s\.io came with this release: kept \(\{ installGatewayAPI: true \}\)/);
  expect(upgrade.err).toMatch(/\[2\/2\] linkerd: linkerd-control-plane \(chart linkerd-control-plane 2026\.8\.3 from --charts\) in linkerd: ready in/);
  expect((await crd())?.metadata?.uid).toBe(uid);
  expect(await secret()).toEqual(identity);
  expect(await settings()).toEqual({ nativeSidecar: 'true', addedLater: 'the new default' });
  const again = await installMesh('linkerd', ['--charts', pinned, '--with', 'none']);
  expect(again.code).toBe(0);
  expect(again.err.match(/deployed already, left as it is/g)).toHaveLength(2);

  const removed = await installMesh('linkerd', ['--uninstall', '--with', 'none', '--timeout', '120s']);
  expect(removed.code).toBe(0);
  expect(removed.err).toMatch(/uninstalling linkerd-crds from linkerd \(and CRD httproutes\.gateway\.networking\.k8s\.io, which came with it, with every object of its kind\)\n/);
  await eventually(async () => (await crd()) === undefined, { timeoutMs: 60_000, intervalMs: 500, describe: `${CRD} removed with its release` });
  await eventually(() => core.readNamespace({ name: 'linkerd' }).then(() => false, () => true), { timeoutMs: 60_000, intervalMs: 500, describe: 'linkerd deleted' });

  // A cluster that has the Gateway API from elsewhere keeps it: the chart does not take it over.
  const own = await ext.createCustomResourceDefinition({ body: gatewayHttpRouteCrd() });
  try {
    const onOwn = await installMesh('linkerd', ['--charts', pinned, '--with', 'none', '--timeout', '120s']);
    expect(onOwn.code).toBe(0);
    expect(onOwn.err).toMatch(/linkerd-crds .*: CRD httproutes\.gateway\.networking\.k8s\.io is on the cluster already \(bundle v1\.6\.1\), not from helm: used as it is, not installed by this chart/);
    expect(JSON.parse(helm('get', 'values', 'linkerd-crds', '-n', 'linkerd', '-o', 'json'))).toBeNull();
    const keptOwn = await installMesh('linkerd', ['--uninstall', '--with', 'none', '--timeout', '120s']);
    expect(keptOwn.code).toBe(0);
    expect(keptOwn.err).toMatch(/uninstalling linkerd-crds from linkerd\n/);
    expect((await crd())?.metadata?.uid).toBe(own.metadata?.uid);
  } finally {
    await ext.deleteCustomResourceDefinition({ name: CRD }).catch(() => undefined);
  }
  await eventually(() => core.readNamespace({ name: 'linkerd' }).then(() => false, () => true), { timeoutMs: 60_000, intervalMs: 500, describe: 'linkerd deleted' });
}, 600_000);

test('meshcheck install --mesh osm --with metrics-server,prometheus: OSM\'s chart at the pinned 1.2.4, Prometheus\'s at the pinned 29.27.0 and metrics-server\'s (Go modules) take the profiles\' values (the charts\' values schemas check them), the API server accepts every object, and they are ready on kwok (OSM\'s pre-install hook Job completes); --uninstall removes them', async () => {
  const osm = goModule('github.com/openservicemesh/osm@v1.2.4');
  const metricsServer = goModule('sigs.k8s.io/metrics-server@v0.7.2');
  // The chart repository on the day its prometheus chart was 29.27.0 (a pseudo-version: the repository has no Go tags).
  const community = join(goModule('github.com/prometheus-community/helm-charts@v0.0.0-20260828105119-ed5d7d9b5933'), 'charts');
  const charts = mkdtempSync(join(tmpdir(), 'meshcheck-charts-'));
  symlinkSync(join(osm, 'charts', 'osm'), join(charts, 'osm'));
  symlinkSync(join(metricsServer, 'charts', 'metrics-server'), join(charts, 'metrics-server'));
  // helm needs a chart's dependencies in its charts/ folder, as `helm dependency build` would put them, disabled or not.
  cpSync(join(community, 'prometheus'), join(charts, 'prometheus'), { recursive: true });
  for (const dep of ['alertmanager', 'kube-state-metrics', 'prometheus-node-exporter', 'prometheus-pushgateway']) cpSync(join(community, dep), join(charts, 'prometheus', 'charts', dep), { recursive: true });
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);

  const up = await installMesh('osm', ['--charts', charts, '--with', 'metrics-server,prometheus', '--timeout', '180s']);
  expect(up.err).toMatch(/\[1\/3\] osm: osm \(chart osm 1\.2\.4 from --charts\) in osm-system: ready in [\d.]+ s/);
  // The module's tag v0.7.2 holds the chart as 3.12.1; the repository's 3.12.2 is the same app version's next chart.
  expect(up.err).toMatch(/\[2\/3\] metrics-server: metrics-server \(chart metrics-server 3\.12\.1 from --charts\) in monitoring: ready in [\d.]+ s/);
  expect(up.err).toMatch(/\[3\/3\] prometheus: prometheus \(chart prometheus 29\.27\.0 from --charts\) in monitoring: ready in [\d.]+ s/);
  expect(up.err).not.toMatch(/(osm|prometheus): .*the profile pins/);
  expect(up.err).toMatch(/next: meshcheck run --target kube --context meshcheck-test --mesh osm --allow-changes-in osm-system --prometheus-service monitoring\/prometheus-server:80\n/);
  expect(up.code).toBe(0);
  // The profile's values as OSM's controller reads them at start: the MeshConfig preset.
  const preset = JSON.parse(Object.values((await core.readNamespacedConfigMap({ name: 'preset-mesh-config', namespace: 'osm-system' })).data ?? {})[0] ?? '{}') as { traffic?: { enablePermissiveTrafficPolicyMode?: boolean }; featureFlags?: { enableRetryPolicy?: boolean } };
  expect(preset.traffic?.enablePermissiveTrafficPolicyMode).toBe(true);
  expect(preset.featureFlags?.enableRetryPolicy).toBe(true);

  // The Service meshcheck reads Prometheus through, and no volume claim (the profile turns it off).
  expect((await core.readNamespacedService({ name: 'prometheus-server', namespace: 'monitoring' })).spec?.ports?.map((p) => p.port)).toEqual([80]);
  expect((await core.listNamespacedPersistentVolumeClaim({ namespace: 'monitoring' })).items).toEqual([]);

  const gone = await installMesh('osm', ['--uninstall', '--with', 'metrics-server,prometheus', '--timeout', '180s']);
  expect(gone.code).toBe(0);
  expect(JSON.parse(helm('list', '-A', '-o', 'json'))).toEqual([]);
  for (const ns of ['osm-system', 'monitoring']) await eventually(() => core.readNamespace({ name: ns }).then(() => false, () => true), { timeoutMs: 90_000, intervalMs: 500, describe: `${ns} deleted` });
}, 600_000);
