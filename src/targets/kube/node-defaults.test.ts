import type { KubeConfig } from '@kubernetes/client-node';
import { withNodeDefaults } from './node-defaults.js';
import type { KubeTargetSettings } from './options.js';

const node = { app: 'meshcheck.local/node:20', k6: 'meshcheck.local/k6:2.2.0', proxyless: 'meshcheck.local/proxyless:abc', 'istio-agent': 'meshcheck.local/istio-agent:1.31' };
const cluster = (data?: Record<string, string>) =>
  ({ makeApiClient: () => ({ readNamespacedConfigMap: async () => (data ? { data } : Promise.reject(Object.assign(new Error('not found'), { code: 404 }))) }) }) as unknown as KubeConfig;
const settings = (o: Partial<KubeTargetSettings> = {}) => ({ context: 'ctx', mesh: 'istio', meshOptions: {}, ...o }) as KubeTargetSettings;

test("on meshcheck's node: its images, Istio's proxyless data plane (no Envoy there) and changes allowed in istio-system, each said", async () => {
  const said: string[] = [];
  const s = await withNodeDefaults(cluster(node), settings(), (m) => said.push(m));
  expect(s).toMatchObject({ appImage: node.app, k6Image: node.k6, proxylessImage: node.proxyless, dataPlane: 'proxyless', allowChangesIn: 'istio-system' });
  expect(said.join('\n')).toMatch(/--data-plane proxyless \(the node has no Envoy for "sidecar"; --data-plane sidecar tries it anyway\)/);
  expect(said.join('\n')).toMatch(/changes allowed in istio-system, where Istio's control plane runs/);
});

test("what the user named stays; a mesh without a control plane or another data plane gets images only; elsewhere nothing changes", async () => {
  const named = await withNodeDefaults(cluster(node), settings({ dataPlane: 'sidecar', allowChangesIn: 'mesh-config', k6Image: 'mine/k6:1' }), () => undefined);
  expect(named).toMatchObject({ dataPlane: 'sidecar', allowChangesIn: 'mesh-config', k6Image: 'mine/k6:1', appImage: node.app });
  const none = await withNodeDefaults(cluster(node), settings({ mesh: 'none' }), () => undefined);
  expect(none.dataPlane).toBeUndefined();
  expect(none.allowChangesIn).toBeUndefined();
  expect(await withNodeDefaults(cluster(), settings(), () => undefined)).toEqual(settings());
});
