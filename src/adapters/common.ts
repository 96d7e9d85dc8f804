import { stringify } from 'yaml';
import type { Intent } from '../intents/types.js';
import type { K8sObject, RenderContext, Rendered, Support, WorkloadShape } from './types.js';
import { echoScript } from '../workload/echo-script.js';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'meshcheck' } as const;
export const RUN_ID_LABEL = 'meshcheck.io/run-id';
/** Marks an object meshcheck patches (server-side apply of a few fields) rather than creates. */
export const PATCH_ANNOTATION = 'meshcheck.io/patch';

/** Pinned public images of what meshcheck deploys on a cluster (none of them built by meshcheck). */
export const IMAGES = {
  /** A stock Node.js image: it runs meshcheck's echo workload (src/workload/echo.mjs) from a ConfigMap. */
  app: 'docker.io/library/node:22.12.0-alpine',
  /** Envoy, for the error and delay backends that emulate faults on meshes without fault injection. */
  envoy: 'docker.io/envoyproxy/envoy:v1.35.3',
} as const;

/**
 * An image as the cluster should pull it: from the mirror when one is named (`--image-mirror
 * registry.example.com/mirror` turns docker.io/grafana/k6:2.2.0 into
 * registry.example.com/mirror/grafana/k6:2.2.0: the registry host is replaced, the path kept).
 */
export function imageRef(ref: string, mirror?: string): string {
  if (!mirror) return ref;
  const slash = ref.indexOf('/');
  return `${mirror.replace(/\/+$/, '')}/${slash < 0 ? ref : ref.slice(slash + 1)}`;
}

/** Labels every object carries: managed-by, and the run id when rendering for a run. */
export function labels(ctx: RenderContext, extra: Record<string, string> = {}): Record<string, string> {
  return { ...MANAGED_BY, ...(ctx.runId ? { [RUN_ID_LABEL]: ctx.runId } : {}), ...extra };
}

/** An object with metadata filled in; `namespaced: false` for cluster-scoped kinds. */
export function obj(ctx: RenderContext, apiVersion: string, kind: string, name: string, body: Record<string, unknown>, opts: { namespace?: string | false; annotations?: Record<string, string>; labels?: Record<string, string> } = {}): K8sObject {
  const ns = opts.namespace === false ? undefined : opts.namespace ?? ctx.namespace;
  return {
    apiVersion, kind,
    metadata: { name, ...(ns ? { namespace: ns } : {}), labels: labels(ctx, opts.labels), ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    ...body,
  };
}

/** A few fields of an object that already exists (installed by the mesh or by meshcheck's workload). */
export function patch(ctx: RenderContext, apiVersion: string, kind: string, name: string, body: Record<string, unknown>, opts: { namespace?: string | false; annotations?: Record<string, string> } = {}): K8sObject {
  const o = obj(ctx, apiVersion, kind, name, body, { namespace: opts.namespace, annotations: { ...opts.annotations, [PATCH_ANNOTATION]: 'true' } });
  delete o.metadata.labels;
  return o;
}

/** "1.22.3" -> [1, 22]; compares MAJOR.MINOR only. */
export function atLeast(version: string, min: string): boolean {
  const parse = (v: string) => v.replace(/^v/, '').split(/[.+-]/).slice(0, 2).map((p) => Number(p) || 0);
  const [a1 = 0, a2 = 0] = parse(version);
  const [b1 = 0, b2 = 0] = parse(min);
  return a1 !== b1 ? a1 > b1 : a2 >= b2;
}

export function fqdn(ctx: RenderContext, service: string): string {
  return `${service}.${ctx.namespace}.svc.cluster.local`;
}

/** Service names a workload sees: the caller services of `service` in the app, and the load client. */
export function callersOf(ctx: RenderContext, service: string): string[] {
  return [...ctx.services.filter((s) => s.upstream === service).map((s) => s.name), ctx.loadClient];
}

export function versionsOf(ctx: RenderContext, service: string): string[] {
  return ctx.services.find((s) => s.name === service)?.versions ?? ['v1'];
}

/**
 * The max-ejection percent to render for a service: the intent's, else the smallest that lets one host
 * go. Current Envoy ejects a host only if 100 x (ejected + 1) / hosts <= the cap, on the first ejection
 * too, so Istio's default 10% would never eject one of 3 hosts.
 */
export function ejectionCap(ctx: RenderContext, o: { service: string; maxEjectionPercent?: number }): number {
  return o.maxEjectionPercent ?? Math.ceil(100 / versionsOf(ctx, o.service).length);
}

/** Go duration text for milliseconds: 1500 -> "1.5s", 200 -> "200ms", 60000 -> "1m". */
export function goDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 100 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Every intent of a scenario, grouped by the service it is about (namespace-wide ones under ""). */
export interface ServicePolicy {
  service: string;
  delay?: Extract<Intent, { kind: 'FaultDelay' }>;
  abort?: Extract<Intent, { kind: 'FaultAbort' }>;
  split?: Extract<Intent, { kind: 'TrafficSplit' }>;
  header?: Extract<Intent, { kind: 'HeaderRoute' }>;
  mtls?: Extract<Intent, { kind: 'MtlsMode' }>;
  pool?: Extract<Intent, { kind: 'ConnectionPool' }>;
  outlier?: Extract<Intent, { kind: 'OutlierDetection' }>;
  retry?: Extract<Intent, { kind: 'Retry' }>;
  timeout?: Extract<Intent, { kind: 'Timeout' }>;
  authz?: Extract<Intent, { kind: 'Authorization' }>;
}

const FIELD: Record<Intent['kind'], keyof Omit<ServicePolicy, 'service'>> = {
  FaultDelay: 'delay', FaultAbort: 'abort', TrafficSplit: 'split', HeaderRoute: 'header', MtlsMode: 'mtls',
  ConnectionPool: 'pool', OutlierDetection: 'outlier', Retry: 'retry', Timeout: 'timeout', Authorization: 'authz',
};

/** Groups intents by service; a later intent of the same kind for the same service replaces the earlier. */
export function policies(intents: readonly Intent[]): ServicePolicy[] {
  const by = new Map<string, ServicePolicy>();
  for (const i of intents) {
    const service = 'service' in i && i.service ? i.service : '';
    const p = by.get(service) ?? { service };
    (p as unknown as Record<string, Intent>)[FIELD[i.kind]] = i;
    by.set(service, p);
  }
  return [...by.values()];
}

/** Does a policy need anything on the request path (route-level config)? */
export function hasRoute(p: ServicePolicy): boolean {
  return Boolean(p.delay || p.abort || p.split || p.header || p.retry || p.timeout);
}

/** One share of a service's traffic: to a version (or to all versions), or to a fault backend. */
export interface Share {
  /** Backend service name (a version's Service, the origin, or a fault backend). */
  target: { version?: string; fault?: 'abort' | 'delay' };
  percent: number;
}

/**
 * The shares a weighted route sends traffic to, when faults are emulated by routing: the fault backends
 * take their percentages, and the rest is split by version (or sent to all versions).
 */
export function shares(p: ServicePolicy): Share[] {
  const out: Share[] = [];
  let rest = 100;
  if (p.abort) { out.push({ target: { fault: 'abort' }, percent: p.abort.percent }); rest -= p.abort.percent; }
  if (p.delay) {
    // Delay and abort shares are independent in Envoy; as routes they are disjoint shares of the rest.
    const d = (p.delay.percent * rest) / 100;
    out.push({ target: { fault: 'delay' }, percent: d });
    rest -= d;
  }
  if (p.split) for (const w of p.split.weights) out.push({ target: { version: w.version }, percent: (w.weight * rest) / 100 });
  else out.push({ target: {}, percent: rest });
  return out.filter((s) => s.percent > 0);
}

/** Integer weights in the same proportions (Gateway API, Linkerd and SMI take integers). */
export function integerWeights(percents: number[]): number[] {
  for (const scale of [1, 10, 100, 1000, 10_000]) {
    const w = percents.map((p) => p * scale);
    if (w.every((x) => Math.abs(x - Math.round(x)) < 1e-6)) return w.map((x) => Math.round(x));
  }
  return percents.map((p) => Math.round(p * 10_000));
}

/** Names of the emulation backends. */
export function faultBackendName(p: ServicePolicy, kind: 'abort' | 'delay'): string {
  return kind === 'abort' ? `${p.service}-fault-abort-${p.abort!.httpStatus}` : `${p.service}-fault-delay-${p.delay!.delayMs}ms`;
}

/** The Service that selects every version of a service and that no route is attached to. */
export function originName(service: string): string {
  return `${service}-origin`;
}

/**
 * The error or delay backend a weighted route sends a share of traffic to, for meshes without fault
 * injection: an Envoy that answers every request with the status (abort), or waits and then forwards
 * to the service's origin (delay). Returns its ConfigMap, Deployment and Service.
 */
export function faultBackend(ctx: RenderContext, p: ServicePolicy, kind: 'abort' | 'delay', podAnnotations: Record<string, string>, upstream: { host: string; headers?: Record<string, string> }): K8sObject[] {
  const name = faultBackendName(p, kind);
  const route = kind === 'abort'
    ? { match: { prefix: '/' }, direct_response: { status: p.abort!.httpStatus, body: { inline_string: 'fault filter abort' } } }
    : { match: { prefix: '/' }, route: { cluster: 'origin', timeout: '0s' }, request_headers_to_add: Object.entries(upstream.headers ?? {}).map(([key, value]) => ({ header: { key, value } })) };
  const filters = [
    ...(kind === 'delay' ? [{ name: 'envoy.filters.http.fault', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', delay: { fixed_delay: `${p.delay!.delayMs / 1000}s`, percentage: { numerator: 100, denominator: 'HUNDRED' } } } }] : []),
    { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
  ];
  const envoy = {
    static_resources: {
      listeners: [{
        name: 'http', address: { socket_address: { address: '0.0.0.0', port_value: ctx.port } },
        filter_chains: [{ filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            stat_prefix: 'fault', http_filters: filters,
            route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [route] }] },
          },
        }] }],
      }],
      clusters: kind === 'delay'
        ? [{ name: 'origin', type: 'STRICT_DNS', connect_timeout: '1s', load_assignment: { cluster_name: 'origin', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: upstream.host, port_value: ctx.port } } } }] }] } }]
        : [],
    },
  };
  const app = { app: name, 'meshcheck.io/role': `fault-${kind}` };
  return [
    obj(ctx, 'v1', 'ConfigMap', name, { data: { 'envoy.yaml': stringify(envoy, { lineWidth: 0 }) } }),
    obj(ctx, 'apps/v1', 'Deployment', name, {
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: app, annotations: podAnnotations },
          spec: {
            serviceAccountName: name,
            containers: [{ name: 'envoy', image: imageRef(IMAGES.envoy, ctx.imageMirror), args: ['-c', '/etc/envoy/envoy.yaml'], ports: [{ name: 'http', containerPort: ctx.port }], volumeMounts: [{ name: 'config', mountPath: '/etc/envoy' }] }],
            volumes: [{ name: 'config', configMap: { name } }],
          },
        },
      },
    }),
    obj(ctx, 'v1', 'ServiceAccount', name, {}),
    obj(ctx, 'v1', 'Service', name, { spec: { selector: { app: name }, ports: [{ name: 'http', port: ctx.port, targetPort: ctx.port }] } }),
  ];
}

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
                name: 'app', image: imageRef(IMAGES.app, ctx.imageMirror), command: ['node', `${ECHO_MOUNT}/echo.mjs`], env,
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

/** The pod label and annotations that keep a pod out of each of the four meshes (no sidecar injected). */
export const OUTSIDE_THE_MESH = {
  labels: { 'sidecar.istio.io/inject': 'false' },
  annotations: { 'linkerd.io/inject': 'disabled', 'consul.hashicorp.com/connect-inject': 'false', 'openservicemesh.io/sidecar-injection': 'disabled' },
} as const;

/** Removes undefined fields (renders are compared as YAML and sent as JSON). */
export function stripUndefined<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Builds a Rendered from each intent's support in the scenario and the objects; objects keep their order, undefined fields removed. */
export function rendered(intents: readonly Intent[], supports: readonly Support[], objects: K8sObject[]): Rendered {
  return { objects: objects.map(stripUndefined), intents: intents.map((intent, n) => ({ intent, support: supports[n]! })) };
}

export function asList(intents: Intent | readonly Intent[]): Intent[] {
  return Array.isArray(intents) ? [...intents] : [intents as Intent];
}

/** The intents a mesh can run (native or emulated), in order. */
export function runnable(intents: readonly Intent[], support: (i: Intent) => Support): Intent[] {
  return intents.filter((i) => support(i).level !== 'unsupported');
}

/** The intents whose support in the scenario is not "unsupported", in order. */
export function runnableOf(intents: readonly Intent[], supports: readonly Support[]): Intent[] {
  return intents.filter((_, n) => supports[n]!.level !== 'unsupported');
}

/** An intent a mesh cannot combine with another intent of the same scenario, and why. */
export interface Conflict {
  intent: Intent;
  reason: string;
}

/**
 * The support of each intent of one scenario: its own support(), turned into "unsupported" where the
 * mesh cannot combine it with another intent for the same service (`conflicts` says which and why).
 */
export function supportInScenario(intents: readonly Intent[], single: (i: Intent) => Support, conflicts: (p: ServicePolicy) => Conflict[]): Support[] {
  const blocked = new Map<Intent, string>();
  for (const p of policies(runnable(intents, single))) {
    for (const c of conflicts(p)) if (!blocked.has(c.intent)) blocked.set(c.intent, c.reason);
  }
  return intents.map((i) => {
    const reason = blocked.get(i);
    return reason ? { level: 'unsupported', reason } : single(i);
  });
}

/** The stated retries (attempts > 0) and timeout of a service that also has a fault, each with the reason `why` gives. */
export function retryAndTimeoutBesideFault(p: ServicePolicy, why: (what: 'retries' | 'timeout') => string): Conflict[] {
  if (!p.abort && !p.delay) return [];
  return [
    ...(p.retry && p.retry.attempts > 0 ? [{ intent: p.retry, reason: why('retries') }] : []),
    ...(p.timeout ? [{ intent: p.timeout, reason: why('timeout') }] : []),
  ];
}

/**
 * What a mesh that emulates faults with a routed share (an error or a delay backend) cannot combine
 * with them, because the backend is a real upstream where Envoy's fault filter is not:
 * - the caller's retries retry an emulated abort, and its request timeout counts an emulated delay,
 *   while an injected fault is never retried and its delay comes before the timeout starts;
 * - the delay backend forwards to every version of the service, with its own identity, so a weighted
 *   or header route or an authorization policy of that service would not apply to delayed requests;
 * - when `headerSkipsAbort`, a header-matched request goes past the share that carries the abort.
 */
export function emulatedFaultConflicts(p: ServicePolicy, mesh: string, o: { headerSkipsAbort: boolean }): Conflict[] {
  const out: Conflict[] = [];
  const s = p.service;
  if (p.retry && p.retry.attempts > 0 && (p.abort || p.delay)) {
    out.push({ intent: p.retry, reason: `${mesh} has no fault injection; the emulated ${p.abort ? 'abort' : 'delay'} of ${s} is a real answer from a fault backend, which ${mesh}'s retries would retry, while an injected fault is never retried: retries of ${s} cannot be combined with its fault here` });
  }
  if (p.timeout && p.delay) {
    out.push({ intent: p.timeout, reason: `${mesh} has no fault injection; the emulated delay of ${s} happens in a backend, so ${mesh}'s request timeout would count it, while an injected delay comes before the timeout starts: a timeout of ${s} cannot be combined with its delay here` });
  }
  if (p.delay && (p.split || p.header || p.authz)) {
    const what = [p.split && 'weighted split', p.header && 'header route', p.authz && 'authorization policy'].filter(Boolean).join(' and ');
    out.push({ intent: p.delay, reason: `${mesh} has no fault injection; the emulated delay is a backend that forwards to every version of ${s} under its own identity, so the ${what} of ${s} would not apply to delayed requests: they cannot be combined here` });
  }
  if (o.headerSkipsAbort && p.abort && p.header) {
    out.push({ intent: p.abort, reason: `${mesh} has no fault injection; the emulated abort is a share of the default route of ${s}, and requests matched by the header route go straight to version ${p.header.version}, past it: the abort cannot be combined with the header route here` });
  }
  return out;
}
