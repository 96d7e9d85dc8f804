/**
 * `meshcheck run --target kube` against a real kube-apiserver (no nodes, no mesh installed): a
 * scenario the mesh cannot express ends NOT_SUPPORTED, skipped in Allure with its category, and
 * touches nothing on the cluster; a runnable one creates the run's namespace and workload, cannot
 * become available here, ends BROKEN, and its namespace is deleted on the way out.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { installCrds, readCrds, startTestApiServer, type TestApiServer } from '../src/kube/test-apiserver.js';
import { startCli, tmpOut } from './helpers/cli.js';

let api: TestApiServer;

beforeAll(async () => {
  api = await startTestApiServer();
  await installCrds(api, readCrds(join(process.cwd(), 'clusters', 'crds')));
}, 180_000);

afterAll(async () => {
  await api?.stop();
});

async function meshcheckNamespaces(): Promise<{ name: string; deleting: boolean }[]> {
  const list = await api.client.list('v1', 'Namespace', undefined, undefined, undefined, undefined, undefined, 'app.kubernetes.io/managed-by=meshcheck');
  return list.items.map((n) => ({ name: n.metadata!.name!, deleting: Boolean(n.metadata!.deletionTimestamp) }));
}

interface AllureResult { name: string; status: string; description?: string; labels: { name: string; value: string }[]; attachments: { name: string }[] }

test('OSM cannot route by header: the scenario is NOT_SUPPORTED with the reason, skipped in Allure, nothing applied, exit 0', async () => {
  const out = tmpOut();
  const run = startCli(['run', 'features/traffic-shifting.feature:14', '--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', api.kubeconfigFile, '--mesh', 'osm', '--out', out, '--no-progress']);
  const code = await run.done;
  expect({ code, stderr: code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(run.stderr).toMatch(/NOT_SUPPORTED.*HeaderRoute reviews.*no header matches/);
  const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as { mesh: string; target: string; scenarios: { outcome: string; notSupported?: string[] }[] };
  expect(record).toMatchObject({ mesh: 'osm', target: 'kube' });
  expect(record.scenarios.map((s) => s.outcome)).toEqual(['NOT_SUPPORTED']);
  expect(record.scenarios[0]!.notSupported![0]).toMatch(/TrafficSplit v1alpha2 only/);

  const dir = join(out, 'allure-results');
  const results = readdirSync(dir).filter((f) => f.endsWith('-result.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as AllureResult);
  expect(results).toHaveLength(1);
  expect(results[0]!.status).toBe('skipped');
  expect(results[0]!.labels).toEqual(expect.arrayContaining([{ name: 'parentSuite', value: 'osm' }, { name: 'meshcheck_outcome', value: 'NOT_SUPPORTED' }]));
  // The reason is attached in the set-up (Before hook) of the skipped result.
  const containers = readdirSync(dir).filter((f) => f.endsWith('-container.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { children: string[]; befores: { steps: { attachments: { name: string; source: string }[] }[] }[] });
  const attachment = containers.filter((c) => c.children.includes((results[0] as unknown as { uuid: string }).uuid))
    .flatMap((c) => c.befores.flatMap((b) => b.steps.flatMap((st) => st.attachments))).find((a) => a.name === 'not supported by mesh');
  expect(attachment).toBeDefined();
  expect(readFileSync(join(dir, attachment!.source), 'utf8')).toMatch(/"reason": "OSM serves TrafficSplit v1alpha2 only/);
  const categories = JSON.parse(readFileSync(join(dir, 'categories.json'), 'utf8')) as { name: string; matchedStatuses: string[] }[];
  expect(categories).toContainEqual({ name: 'Not supported by mesh', matchedStatuses: ['skipped'] });

  expect(await meshcheckNamespaces()).toEqual([]);
}, 120_000);

test('a runnable scenario deploys the mesh-shaped workload, ends BROKEN when it cannot become available, and its namespace is deleted', async () => {
  const out = tmpOut();
  process.env.MESHCHECK_KUBE_READY_TIMEOUT_MS = '3000';
  const run = startCli(['run', 'features/traffic-shifting.feature:14', '--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', api.kubeconfigFile, '--mesh', 'linkerd', '--out', out, '--no-progress']);
  delete process.env.MESHCHECK_KUBE_READY_TIMEOUT_MS;
  const code = await run.done;
  expect(code).toBe(3);
  expect(run.stderr).toMatch(/BROKEN .* to become available/);
  const ns = await meshcheckNamespaces();
  expect(ns.length).toBe(1);
  // Without a namespace controller the deletion stays pending, but it was requested.
  expect(ns[0]!.deleting).toBe(true);
  expect(readdirSync(run.stateDir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  expect(existsSync(join(out, 'run-record.json'))).toBe(true);

  // Allure shows what the mesh would be given: the level, and the exact manifests for the run's namespace.
  const dir = join(out, 'allure-results');
  const results = readdirSync(dir).filter((f) => f.endsWith('-result.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as AllureResult & { uuid: string });
  expect(results).toHaveLength(1);
  expect(results[0]!.labels).toContainEqual({ name: 'meshcheck_level', value: 'native' });
  const attachments = readdirSync(dir).filter((f) => f.endsWith('-container.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { children: string[]; befores: { steps: { attachments: { name: string; source: string }[] }[] }[] })
    .filter((c) => c.children.includes(results[0]!.uuid)).flatMap((c) => c.befores.flatMap((b) => b.steps.flatMap((st) => st.attachments)));
  const manifests = attachments.find((a) => a.name.startsWith('manifests (linkerd'));
  expect(manifests).toBeDefined();
  const yaml = readFileSync(join(dir, manifests!.source), 'utf8');
  expect(yaml).toContain('kind: HTTPRoute');
  expect(yaml).toContain(`namespace: ${ns[0]!.name}`);
  expect(attachments.map((a) => a.name)).toContain('capability on linkerd 2.18');
}, 120_000);

test('bad kube options are usage errors naming the option (exit 2)', async () => {
  const cases: [string[], RegExp][] = [
    [['--target', 'kube', '--mesh', 'istio'], /--target kube needs --context/],
    [['--target', 'kube', '--context', 'nope', '--kubeconfig', api.kubeconfigFile, '--mesh', 'istio'], /--context nope: no such context/],
    [['--target', 'kube', '--context', 'meshcheck-test', '--kubeconfig', api.kubeconfigFile], /--mesh reference runs on the local target only/],
    [['--mesh', 'istio'], /--mesh istio: the local target runs the reference mesh only/],
    [['--mesh', 'kuma'], /--mesh kuma: unknown mesh/],
  ];
  for (const [args, message] of cases) {
    const run = startCli(['run', ...args, '--no-progress']);
    expect({ code: await run.done, args }).toEqual({ code: 2, args });
    expect(run.stderr).toMatch(message);
  }
}, 60_000);
