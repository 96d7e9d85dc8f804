import { appContext } from '../../meshes/registry.js';
import { bootstrap, proxylessAppObjects, LOCAL_NODE } from './app.js';

describe('the app on an apiserver without a kubelet', () => {
  const ctx = appContext('meshcheck', '1.31');
  const instances = [
    { service: 'reviews', version: 'v1', name: 'reviews-v1-0', address: '127.100.100.3:9080', identity: 'spiffe://cluster.local/ns/meshcheck/sa/reviews' },
    { service: 'reviews', version: 'v2', name: 'reviews-v2-0', address: '127.100.100.4:9080', identity: 'spiffe://cluster.local/ns/meshcheck/sa/reviews' },
  ];
  const { objects, podStatus } = proxylessAppObjects(ctx, instances, ['loadclient']);

  test('each instance is a WorkloadEntry at its loopback address (EndpointSlices refuse loopback) and a Pod on an existing Node', () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(expect.arrayContaining(['Namespace/meshcheck', `Node/${LOCAL_NODE}`, 'ServiceAccount/loadclient', 'Service/reviews', 'WorkloadEntry/reviews-v2-0', 'Pod/reviews-v2-0']));
    const we = objects.find((o) => o.kind === 'WorkloadEntry' && o.metadata.name === 'reviews-v2-0')!;
    expect(we.spec).toEqual({ address: '127.100.100.4', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'reviews' });
    const pod = objects.find((o) => o.kind === 'Pod' && o.metadata.name === 'reviews-v1-0')!;
    expect(pod.metadata.labels).toMatchObject({ app: 'reviews', version: 'v1', 'security.istio.io/tlsMode': 'istio' });
    expect((pod.spec as { nodeName: string }).nodeName).toBe(LOCAL_NODE);
    expect(podStatus.find((p) => p.name === 'reviews-v1-0')!.status).toMatchObject({ phase: 'Running', podIP: '127.100.100.3' });
  });

  test('the xDS bootstrap names the node as the gRPC generator of istiod expects, and the certificate provider default', () => {
    const b = bootstrap({ xds: '127.0.0.1:15010', nodeName: 'reviews-v1-0', ip: '127.100.100.3', namespace: 'meshcheck', istioVersion: '1.31', certFile: 'c', keyFile: 'k', caFile: 'r' }) as { node: { id: string; metadata: Record<string, string> }; server_listener_resource_name_template: string; certificate_providers: Record<string, unknown> };
    expect(b.node.id).toBe('sidecar~127.100.100.3~reviews-v1-0.meshcheck~meshcheck.svc.cluster.local');
    expect(b.node.metadata).toMatchObject({ GENERATOR: 'grpc', NAMESPACE: 'meshcheck', INSTANCE_IPS: '127.100.100.3' });
    expect(b.server_listener_resource_name_template).toBe('xds.istio.io/grpc/lds/inbound/%s');
    expect(Object.keys(b.certificate_providers)).toEqual(['default']);
  });
});
