import type { KubeConfig } from '@kubernetes/client-node';
import { withNodeDefaults } from './node-defaults.js';
import type { KubeTargetSettings } from './options.js';

const node = { app: 'meshcheck.local/node:20', k6: 'meshcheck.local/k6:2.2.0', proxyless: 'meshcheck.local/proxyless:abc', 'istio-sidecar': 'meshcheck.local/istio-sidecar:1.31-envoy-1.40.0', 'upstream-envoy': 'meshcheck.local/envoy:1.40.0', envoy: '1.40.0' };
const { envoy: _, ...withoutEnvoy } = node;
const cluster = (data?: Record<string, string>) =>
  ({ makeApiClient: () => ({ readNamespacedConfigMap: async () => (data ? { data } : Promise.reject(Object.assign(new Error('not found'), { code: 404 }))) }) }) as unknown as KubeConfig;
const settings = (o: Partial<KubeTargetSettings> = {}) => ({ context: 'ctx', mesh: 'istio', meshOptions: {}, ...o }) as KubeTargetSettings;

test("on meshcheck's node: its images, Istio's sidecars (its Envoy), changes allowed in istio-system and no mesh metrics, each said", async () => {
  const said: string[] = [];
  const s = await withNodeDefaults(cluster(node), settings(), (m) => said.push(m));
  expect(s).toMatchObject({ appImage: node.app, k6Image: node.k6, proxylessImage: node.proxyless, envoyImage: node['upstream-envoy'], allowChangesIn: 'istio-system' });
  expect(s.dataPlane).toBeUndefined();
  expect(s.noMeshMetrics).toMatch(/no Prometheus .*, and Istio's standard metrics are off there \(upstream Envoy lacks Istio's stats filter\)/);
  expect((await withNodeDefaults(cluster(node), settings({ mesh: 'osm' }), () => undefined)).noMeshMetrics).toMatch(/no Prometheus .*, and OSM's Wasm stats are off there/);
  expect(said.join('\n')).toMatch(/changes allowed in istio-system, where Istio's control plane runs/);
  expect((await withNodeDefaults(cluster(node), settings({ prometheusUrl: 'http://127.0.0.1:9090' }), () => undefined)).noMeshMetrics).toBeUndefined();
});

test("a node whose images carry no Envoy runs Istio proxyless unless told", async () => {
  const said: string[] = [];
  expect((await withNodeDefaults(cluster(withoutEnvoy), settings(), (m) => said.push(m))).dataPlane).toBe('proxyless');
  expect(said.join('\n')).toMatch(/--data-plane proxyless \(the node has no Envoy for "sidecar"; --data-plane sidecar tries it anyway\)/);
});

test("what the user named stays; a mesh without a control plane or another data plane gets images only; elsewhere nothing changes", async () => {
  const named = await withNodeDefaults(cluster(node), settings({ dataPlane: 'sidecar', allowChangesIn: 'mesh-config', k6Image: 'mine/k6:1' }), () => undefined);
  expect(named).toMatchObject({ dataPlane: 'sidecar', allowChangesIn: 'mesh-config', k6Image: 'mine/k6:1', appImage: node.app });
  const none = await withNodeDefaults(cluster(node), settings({ mesh: 'none' }), () => undefined);
  expect(none.dataPlane).toBeUndefined();
  expect(none.allowChangesIn).toBeUndefined();
  expect(await withNodeDefaults(cluster(), settings(), () => undefined)).toEqual(settings());
});
