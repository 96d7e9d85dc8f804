import { obj, stripUndefined, type K8sObject } from '../../kube/objects.js';
import { IMAGES, imageRef } from '../../kube/images.js';
import { echoScript } from '../../workload/echo-script.js';
import type { RenderContext, WorkloadShape } from '../types.js';
import { originName } from './emulation.js';

/** The application's Namespace, ServiceAccounts, Services and Deployments, shaped and injected per mesh. */
export function renderWorkload(ctx: RenderContext, o: {
  shape: WorkloadShape;
  namespace: { labels?: Record<string, string>; annotations?: Record<string, string> };
  pod: (service: string, version: string) => Record<string, string>;
  /** The pod annotations that keep the sidecar off an inbound port (the echo's direct port). */
  skipInbound: (port: number) => Record<string, string>;
  /** An origin Service per service (for fault backends to forward to without re-entering the route). */
  origin?: boolean;
}): K8sObject[] {
  const out: K8sObject[] = [
    obj(ctx, 'v1', 'Namespace', ctx.namespace, {}, { namespace: false, labels: o.namespace.labels, annotations: o.namespace.annotations }),
    obj(ctx, 'v1', 'ConfigMap', ECHO_CONFIGMAP, { data: { 'echo.mjs': echoScript() } }),
  ];
  const port = [{ name: 'http', port: ctx.port, targetPort: ctx.port }];
  const all = [...ctx.services, { name: ctx.loadClient, versions: ['v1'], upstream: undefined }];
  for (const s of all) {
    out.push(obj(ctx, 'v1', 'ServiceAccount', s.name, {}));
    out.push(obj(ctx, 'v1', 'Service', s.name, { spec: { selector: { app: s.name }, ports: port } }));
    if (o.shape === 'service-per-version' && s.name !== ctx.loadClient) {
      for (const v of s.versions) out.push(obj(ctx, 'v1', 'Service', `${s.name}-${v}`, { spec: { selector: { app: s.name, version: v }, ports: port } }));
    }
    if (o.origin && s.name !== ctx.loadClient) out.push(obj(ctx, 'v1', 'Service', originName(s.name), { spec: { selector: { app: s.name }, ports: port } }));
    for (const v of s.versions) {
      const env = [
        { name: 'MESHCHECK_SERVICE', value: s.name }, { name: 'MESHCHECK_VERSION', value: v },
        { name: 'MESHCHECK_INSTANCE', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'MESHCHECK_PORT', value: String(ctx.port) }, { name: 'MESHCHECK_DIRECT_PORT', value: String(ctx.directPort) },
        ...(s.upstream ? [{ name: 'MESHCHECK_UPSTREAM_URL', value: `http://${s.upstream}:${ctx.port}` }] : []),
      ];
      out.push(obj(ctx, 'apps/v1', 'Deployment', `${s.name}-${v}`, {
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: s.name, version: v } },
          template: {
            metadata: { labels: { app: s.name, version: v }, annotations: { ...o.pod(s.name, v), ...o.skipInbound(ctx.directPort) } },
            spec: {
              serviceAccountName: s.name,
              containers: [{
                name: 'app', image: ctx.appImage ?? imageRef(IMAGES.app, ctx.imageMirror), command: ['node', `${ECHO_MOUNT}/echo.mjs`], env,
                ports: [{ name: 'http', containerPort: ctx.port }, { name: 'direct', containerPort: ctx.directPort }],
                readinessProbe: { httpGet: { path: '/healthz', port: ctx.directPort }, periodSeconds: 2 },
                volumeMounts: [{ name: 'echo', mountPath: ECHO_MOUNT, readOnly: true }],
              }],
              volumes: [{ name: 'echo', configMap: { name: ECHO_CONFIGMAP } }],
            },
          },
        },
      }));
    }
  }
  return out.map(stripUndefined);
}

/** The ConfigMap that carries the echo workload's script, and where pods mount it. */
export const ECHO_CONFIGMAP = 'meshcheck-echo';
const ECHO_MOUNT = '/meshcheck';

