import { obj, stripUndefined, type K8sObject } from '../../kube/objects.js';
import { UsageError } from '../../errors.js';
import type { RenderContext } from '../types.js';
import { grpcForHttp } from '../../load/grpc-status.js';

/**
 * Istio's proxyless gRPC data plane in a cluster, as Istio documents it: each pod injected with
 * istiod's `grpc-agent` template (pilot-agent beside the app, no Envoy, no traffic capture), which
 * gets the workload's certificate from istiod's CA and writes the gRPC xDS bootstrap the app reads
 * (GRPC_XDS_BOOTSTRAP). The app is meshcheck's proxyless gRPC echo workload (go/proxyless).
 */
export const PROXYLESS_POD = {
  labels: {
    // The grpc-agent template cannot set it: a gRPC server that serves mTLS says so itself, and
    // istiod then serves its clients mTLS to it.
    'security.istio.io/tlsMode': 'istio',
  },
  annotations: {
    'inject.istio.io/templates': 'grpc-agent',
    // The app reads the bootstrap and certificates the agent writes: the agent starts first.
    'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": true}',
  },
} as const;

/** The path a call takes on this data plane, for the overhead report (on both targets that run it). */
export const PROXYLESS_DATA_PATH = {
  protocol: 'gRPC (HTTP/2)',
  path: 'mTLS in the gRPC client and server (xDS credentials), no sidecar; baseline: plain gRPC to the same workload',
  dataPlane: 'proxyless gRPC',
} as const;

/** The echo workload's control port (behaviour, counts, readiness), which no mesh config touches. */
export const PROXYLESS_CONTROL_PORT = 9082;

/** The echo workload's control body for a behaviour: a failure as the gRPC code a caller gets for the HTTP status asked for. */
export function proxylessBehaviour(b: { failStatus?: number; delayMs?: number }): { code?: number; delayMs?: number } {
  return { ...(b.failStatus ? { code: grpcForHttp(b.failStatus) } : {}), ...(b.delayMs ? { delayMs: b.delayMs } : {}) };
}

/** Where a pod's Istio agent takes a quit request (its status port): a load Job's pod ends with it. */
export const AGENT_QUIT_URL = 'http://127.0.0.1:15020/quitquitquit';

/** The image of meshcheck-proxyless; there is no public one: meshcheck's node has it, elsewhere --proxyless-image. */
export function proxylessImage(ctx: RenderContext): string {
  if (!ctx.proxylessImage)
    throw new UsageError(
      '--data-plane proxyless needs --proxyless-image: meshcheck publishes no image of its proxyless gRPC programs (meshcheck cluster up builds one for its own node; elsewhere build it with go/image and push it to a registry the cluster pulls from)',
    );
  return ctx.proxylessImage;
}

/**
 * The app for the proxyless data plane: the namespace with Istio's injection on, a ServiceAccount and
 * a gRPC Service per service, and a Deployment per version running the echo workload on the service
 * port (xDS server: its inbound listener from istiod, mTLS when served so), the same workload in
 * plain gRPC on the direct port (the overhead baseline, outside the mesh), and its control port; and
 * the load client's pod, a caller with no server.
 */
export function renderProxylessWorkload(ctx: RenderContext): K8sObject[] {
  const image = proxylessImage(ctx);
  const out: K8sObject[] = [obj(ctx, 'v1', 'Namespace', ctx.namespace, {}, { namespace: false, labels: { 'istio-injection': 'enabled' } })];
  // istiod tells gRPC from the Service port's name (or appProtocol).
  const ports = [{ name: 'grpc', port: ctx.port, targetPort: ctx.port, appProtocol: 'grpc' }];
  const pod = (labels: Record<string, string>, serviceAccountName: string, container: Record<string, unknown>) => ({
    metadata: { labels: { ...labels, ...PROXYLESS_POD.labels }, annotations: { ...PROXYLESS_POD.annotations } },
    spec: { serviceAccountName, containers: [{ name: 'app', image, ...container }] },
  });
  for (const s of ctx.services) {
    out.push(obj(ctx, 'v1', 'ServiceAccount', s.name, {}));
    out.push(obj(ctx, 'v1', 'Service', s.name, { spec: { selector: { app: s.name }, ports } }));
    for (const v of s.versions) {
      const config = {
        service: s.name, version: v, instance: '$(MESHCHECK_INSTANCE)',
        address: `0.0.0.0:${ctx.port}`, plain: `0.0.0.0:${ctx.directPort}`, control: `0.0.0.0:${PROXYLESS_CONTROL_PORT}`,
      };
      out.push(obj(ctx, 'apps/v1', 'Deployment', `${s.name}-${v}`, {
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: s.name, version: v } },
          template: pod({ app: s.name, version: v }, s.name, {
            args: ['echo', JSON.stringify(config)],
            env: [{ name: 'MESHCHECK_INSTANCE', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'GRPC_GO_LOG_SEVERITY_LEVEL', value: 'warning' }],
            ports: [{ name: 'grpc', containerPort: ctx.port }, { name: 'direct', containerPort: ctx.directPort }, { name: 'control', containerPort: PROXYLESS_CONTROL_PORT }],
            // Ready once istiod served its inbound listener (the xDS server serves from then on).
            readinessProbe: { httpGet: { path: '/healthz', port: PROXYLESS_CONTROL_PORT }, periodSeconds: 2 },
          }),
        },
      }));
    }
  }
  // The load client: a caller only, its identity and the agent's certificate and bootstrap, no xDS client
  // of its own (go/proxyless: idle). Istio's agent serves one xDS stream per pod (a second closes the
  // first), and grpc-go opens one per channel target: the clients meshcheck starts in these pods while
  // the control plane is away are their only ones, one pod per service.
  out.push(obj(ctx, 'v1', 'ServiceAccount', ctx.loadClient, {}));
  out.push(obj(ctx, 'apps/v1', 'Deployment', `${ctx.loadClient}-v1`, {
    spec: {
      replicas: ctx.services.length,
      selector: { matchLabels: { app: ctx.loadClient, version: 'v1' } },
      template: pod({ app: ctx.loadClient, version: 'v1' }, ctx.loadClient, { args: ['idle'] }),
    },
  }));
  return out.map(stripUndefined);
}
