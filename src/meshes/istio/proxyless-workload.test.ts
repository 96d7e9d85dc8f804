import { appContext, dataPlaneFor, meshFor, OTHER_DATA_PLANES } from '../registry.js';
import { istioProxyless } from './proxyless.js';
import { PROXYLESS_CONTROL_PORT, proxylessBehaviour, renderProxylessWorkload } from './proxyless-workload.js';

interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: { serviceAccountName: string; containers: { image: string; args: string[]; readinessProbe: { httpGet: { port: number } } }[] };
}

const ctx = { ...appContext('shop', '1.31'), proxylessImage: 'registry.example.com/meshcheck-proxyless:1' };

test('the proxyless workload: Istio\'s grpc-agent injection, the tlsMode label only the user can set, gRPC Service ports, and the echo on its three ports', () => {
  const objects = renderProxylessWorkload(ctx);
  expect(objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } });
  const reviews = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'reviews-v2')!;
  const t = (reviews.spec as { template: PodTemplate }).template;
  expect(t.metadata.labels).toEqual({ app: 'reviews', version: 'v2', 'security.istio.io/tlsMode': 'istio' });
  expect(t.metadata.annotations['inject.istio.io/templates']).toBe('grpc-agent');
  expect(t.spec.serviceAccountName).toBe('reviews');
  const [app] = t.spec.containers;
  expect(app!.image).toBe('registry.example.com/meshcheck-proxyless:1');
  expect(app!.args[0]).toBe('echo');
  // The pod's name comes in through the environment (the kubelet expands $(VAR) in args).
  expect(JSON.parse(app!.args[1]!)).toEqual({ service: 'reviews', version: 'v2', instance: '$(MESHCHECK_INSTANCE)', address: '0.0.0.0:9080', plain: '0.0.0.0:9081', control: `0.0.0.0:${PROXYLESS_CONTROL_PORT}` });
  expect(app!.readinessProbe.httpGet.port).toBe(PROXYLESS_CONTROL_PORT);
  const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'reviews')!;
  expect(svc.spec).toEqual({ selector: { app: 'reviews' }, ports: [{ name: 'grpc', port: 9080, targetPort: 9080, appProtocol: 'grpc' }] });
  expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort()).toEqual(['loadclient-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
  // The load client is a caller with its own identity and no server: no Service, and no xDS client of its
  // own, since Istio's agent serves one per pod and meshcheck starts the pod's clients in it.
  const client = (objects.find((o) => o.metadata.name === 'loadclient-v1')!.spec as { template: PodTemplate }).template;
  expect(client.spec.containers[0]!.args).toEqual(['idle']);
  expect(client.metadata.annotations['inject.istio.io/templates']).toBe('grpc-agent');
  expect(objects.some((o) => o.kind === 'Service' && o.metadata.name === 'loadclient')).toBe(false);
  expect(istioProxyless.workload(ctx)).toEqual(objects);
});

test('without an image of meshcheck-proxyless the workload is refused, naming the option', () => {
  expect(() => renderProxylessWorkload(appContext('shop', '1.31'))).toThrow(/--data-plane proxyless needs --proxyless-image/);
});

test('a failure asked for in HTTP terms is the gRPC code a caller gets for it', () => {
  expect(proxylessBehaviour({ failStatus: 503 })).toEqual({ code: 14 });
  expect(proxylessBehaviour({ delayMs: 300 })).toEqual({ delayMs: 300 });
  expect(proxylessBehaviour({})).toEqual({});
});

test('Istio says which data plane runs on which target; --data-plane is checked against it', () => {
  const istio = meshFor('istio').mesh;
  expect(dataPlaneFor(istio, 'kube').name).toBe('sidecar');
  expect(dataPlaneFor(istio, 'kube', 'proxyless').mesh).toBe(istioProxyless);
  expect(dataPlaneFor(istio, 'local').name).toBe('proxyless');
  expect(() => dataPlaneFor(istio, 'kube', 'ambient')).toThrow(/--data-plane ambient: Istio on the kube target has "sidecar" \(.*\), "proxyless" \(/);
  expect(() => dataPlaneFor(meshFor('linkerd').mesh, 'kube', 'proxyless')).toThrow(/--data-plane proxyless: Linkerd on the kube target has "sidecar"/);
  expect(OTHER_DATA_PLANES.istio).toEqual([istioProxyless]);
});

test('proxyless lacks what has no proxy: metrics and sidecar usage', () => {
  expect(istioProxyless.requests).toBeUndefined();
  expect(istioProxyless.sidecar).toBeUndefined();
  expect(istioProxyless.lacks?.('mesh-metrics')).toMatch(/no Istio standard metrics/);
});
