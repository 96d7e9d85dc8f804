/**
 * Every object meshcheck renders, for every mesh, goes through server-side apply on a real
 * kube-apiserver (built from the Go module proxy by scripts/build-kube-tools.sh) that has the meshes'
 * real CRDs installed. The server's OpenAPI schemas and CEL rules decide; a rejection fails the test
 * with the server's message.
 */
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { installCrds, readCrds, serverSideApply, startApiServer, type ApiServer } from '../src/kube/apiserver.js';
import { apiErrorMessage } from '../src/kube/client.js';
import { MESHES, meshFor, appContext } from '../src/meshes/registry.js';
import { EXAMPLE_COMBINATIONS, EXAMPLE_INTENTS, VERSION_VARIANTS } from '../src/meshes/examples.js';
import { readScenarios } from '../src/plan/features.js';
import { planMesh } from '../src/plan/plan.js';
import type { K8sObject } from '../src/kube/objects.js';

let api: ApiServer;

beforeAll(async () => {
  api = await startApiServer();
  await installCrds(api, readCrds(join(process.cwd(), 'clusters', 'crds')));
  // OSM's MeshConfig lives in the mesh's own namespace, which `osm install` creates.
  await serverSideApply(api, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'osm-system' } });
}, 180_000);

afterAll(async () => {
  await api?.stop();
});

async function applyAll(objects: K8sObject[], label: string): Promise<string[]> {
  const rejected: string[] = [];
  for (const o of objects) {
    try {
      await serverSideApply(api, o as KubernetesObject);
    } catch (err) {
      rejected.push(`${label}: ${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${apiErrorMessage(err)}`);
    }
  }
  return rejected;
}

const specs = [...MESHES.map((a) => a.name), ...VERSION_VARIANTS];

test.each(specs)('the API server accepts every object rendered for %s (workload, every example intent and combination, every bundled scenario)', async (spec) => {
  const { mesh: adapter, version } = meshFor(spec);
  const namespace = `check-${spec.replace(/[^a-z0-9]+/g, '-')}`.replace(/-+$/, '');
  const ctx = appContext(namespace, version, 'run-apiserver-test');
  const rejected = await applyAll(adapter.workload(ctx), 'workload');
  let count = adapter.workload(ctx).length;
  for (const e of [...EXAMPLE_INTENTS.map((x) => ({ name: x.name, intents: [x.intent] })), ...EXAMPLE_COMBINATIONS]) {
    const objects = adapter.render(e.intents, ctx).objects;
    count += objects.length;
    rejected.push(...(await applyAll(objects, e.name)));
  }
  for (const s of planMesh(adapter, ctx, readScenarios([join(process.cwd(), 'features')])).scenarios) {
    count += s.objects.length;
    rejected.push(...(await applyAll(s.objects, `${s.scenario.file}:${s.scenario.line}`)));
  }
  expect(rejected).toEqual([]);
  expect(count).toBeGreaterThan(10);
}, 120_000);

test('the check is live: the server rejects an invalid rendered object, with its reason', async () => {
  const { mesh: adapter, version } = meshFor('istio');
  const ctx = appContext('check-negative', version);
  await applyAll(adapter.workload(ctx).filter((o) => o.kind === 'Namespace'), 'namespace');
  const dr = structuredClone(adapter.render(EXAMPLE_INTENTS.find((e) => e.name === 'connection-pool')!.intent, ctx).objects[0]!) as K8sObject & { spec: { trafficPolicy: { connectionPool: { tcp: { maxConnections: unknown } } } } };
  dr.spec.trafficPolicy.connectionPool.tcp.maxConnections = 'one';
  const typeError = await applyAll([dr], 'negative');
  expect(typeError).toHaveLength(1);
  expect(typeError[0]).toMatch(/maxConnections/);

  // A CEL rule of the real CRD (x-kubernetes-validations): Istio durations must be at least 1ms.
  const vs = structuredClone(adapter.render(EXAMPLE_INTENTS.find((e) => e.name === 'fault-delay')!.intent, ctx).objects[0]!) as K8sObject & { spec: { http: { fault: { delay: { fixedDelay: string } } }[] } };
  vs.spec.http[0]!.fault.delay.fixedDelay = '500us';
  const celError = await applyAll([vs], 'negative');
  expect(celError).toHaveLength(1);
  expect(celError[0]).toMatch(/fixedDelay/);
});
