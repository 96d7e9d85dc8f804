import { type K8sObject, labels } from '../../kube/objects.js';
import type { RenderContext } from '../../meshes/types.js';

/** One proxyless workload instance: its own loopback address, the service port. */
export interface ProxylessInstance {
  service: string;
  version: string;
  /** e.g. reviews-v2-0 (also its Pod's name). */
  name: string;
  address: string;
  /** SPIFFE ID istiod's CA gives its ServiceAccount. */
  identity: string;
}

/** The node every kubelet-less Pod names: it must exist for istiod to take the Pods. */
export const LOCAL_NODE = 'meshcheck-local';

/**
 * The Bookinfo-shaped app as Kubernetes objects for a cluster without a kubelet: per service a
 * Service and a ServiceAccount; per instance a WorkloadEntry (its loopback address, so istiod puts it
 * in EDS with its labels: EndpointSlices may not hold loopback addresses) and a Pod whose status says
 * Running at that address (istiod finds a server's inbound listener and policy selectors by its Pod).
 * Pods carry security.istio.io/tlsMode=istio, as injection marks meshed pods.
 */
export function proxylessAppObjects(
  ctx: RenderContext,
  instances: readonly ProxylessInstance[],
  callers: readonly string[],
): { objects: K8sObject[]; podStatus: { name: string; status: Record<string, unknown> }[] } {
  const ns = ctx.namespace;
  const meta = (name: string, extra: Record<string, string> = {}) => ({ name, namespace: ns, labels: labels(ctx, extra) });
  const objects: K8sObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: labels(ctx) } },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: LOCAL_NODE, labels: labels(ctx) } },
  ];
  for (const sa of new Set([...ctx.services.map((s) => s.name), ...callers]))
    objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(sa) });
  for (const s of ctx.services) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(s.name, { app: s.name }),
      spec: { selector: { app: s.name }, ports: [{ name: 'grpc', port: ctx.port, targetPort: ctx.port, appProtocol: 'grpc' }] },
    });
  }
  const podStatus: { name: string; status: Record<string, unknown> }[] = [];
  for (const i of instances) {
    const l = { app: i.service, version: i.version };
    const ip = i.address.split(':')[0]!;
    objects.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntry',
      metadata: meta(i.name, l),
      spec: { address: ip, labels: l, serviceAccount: i.service },
    });
    objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(i.name, { ...l, 'security.istio.io/tlsMode': 'istio' }),
      spec: {
        nodeName: LOCAL_NODE,
        serviceAccountName: i.service,
        containers: [{ name: 'app', image: 'meshcheck.local/proxyless-echo', ports: [{ containerPort: ctx.port, name: 'grpc' }] }],
      },
    });
    podStatus.push({
      name: i.name,
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        hostIP: '127.0.0.1',
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'ContainersReady', status: 'True' },
        ],
      },
    });
  }
  return { objects, podStatus };
}

/** The xDS bootstrap of one proxyless process (grpc-go reads it from GRPC_XDS_BOOTSTRAP). */
export function bootstrap(o: {
  xds: string;
  nodeName: string;
  ip: string;
  namespace: string;
  istioVersion: string;
  certFile: string;
  keyFile: string;
  caFile: string;
}): Record<string, unknown> {
  return {
    xds_servers: [{ server_uri: o.xds, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: {
      id: `sidecar~${o.ip}~${o.nodeName}.${o.namespace}~${o.namespace}.svc.cluster.local`,
      metadata: { GENERATOR: 'grpc', NAMESPACE: o.namespace, CLUSTER_ID: 'Kubernetes', ISTIO_VERSION: o.istioVersion, INSTANCE_IPS: o.ip },
      locality: {},
    },
    server_listener_resource_name_template: 'xds.istio.io/grpc/lds/inbound/%s',
    // istiod's gRPC generator refers to the certificate provider instance named "default".
    certificate_providers: {
      default: {
        plugin_name: 'file_watcher',
        config: { certificate_file: o.certFile, private_key_file: o.keyFile, ca_certificate_file: o.caFile, refresh_interval: '900s' },
      },
    },
  };
}
