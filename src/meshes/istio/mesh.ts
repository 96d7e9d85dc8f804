import { ISTIOD_URL } from './facts.js';
import type { Intent } from '../../intents/types.js';
import { type K8sObject, obj } from '../../kube/objects.js';
import type { Mesh, RenderContext, Rendered, Support } from '../types.js';
import { ISTIO_REQUESTS } from './facts.js';
import { asList, ejectionCap, fqdn, hasRoute, policies, rendered, retryAndTimeoutBesideFault, runnableOf, supportInScenario, versionsOf, type ServicePolicy } from '../render/policy.js';
import { atLeast } from '../version.js';
import { goDuration } from '../../util/duration.js';
import { renderWorkload } from '../render/workload.js';

/** Istio (sidecar mode): VirtualService, DestinationRule, PeerAuthentication, AuthorizationPolicy. */
export const istio: Mesh = {
  name: 'istio',
  title: 'Istio',
  defaultVersion: '1.30',
  versionRange: { min: '1.20', max: '1.31' },
  shape: 'subsets',

  support(intent: Intent): Support {
    switch (intent.kind) {
      case 'FaultDelay': return { level: 'native', via: 'VirtualService http[].fault.delay (client sidecar)' };
      case 'FaultAbort': return { level: 'native', via: 'VirtualService http[].fault.abort (client sidecar)' };
      case 'TrafficSplit': return { level: 'native', via: 'VirtualService route weights over DestinationRule subsets' };
      case 'HeaderRoute': return { level: 'native', via: 'VirtualService http[].match.headers exact' };
      case 'MtlsMode': return { level: 'native', via: `PeerAuthentication mtls.mode ${intent.mode}` };
      case 'ConnectionPool': return { level: 'native', via: 'DestinationRule trafficPolicy.connectionPool' };
      case 'OutlierDetection': return { level: 'native', via: 'DestinationRule trafficPolicy.outlierDetection' };
      case 'Retry': return { level: 'native', via: 'VirtualService http[].retries' };
      case 'Timeout': return { level: 'native', via: 'VirtualService http[].timeout' };
      case 'Authorization': return { level: 'native', via: 'AuthorizationPolicy ALLOW with source principals (deny for everyone else)' };
    }
  },

  supportAll(intents) {
    // Istio leaves a route's retries and timeout off when the route injects a fault (HTTPRoute.fault).
    return supportInScenario(intents, (i) => this.support(i), (p) => retryAndTimeoutBesideFault(p, (what) =>
      `Istio does not turn on a route's ${what} when the route injects a fault (VirtualService http[].fault), so the ${what} of ${p.service} would not be in effect next to its ${p.abort ? 'abort' : 'delay'}`));
  },

  render(input, ctx) {
    return renderIstio(this, input, ctx, 'sidecar');
  },

  workload(ctx) {
    return renderWorkload(ctx, { shape: 'subsets', namespace: { labels: { 'istio-injection': 'enabled' } }, pod: () => ({}), skipInbound: (port) => istio.skipInbound(port) });
  },
  optOut: { labels: { 'sidecar.istio.io/inject': 'false' } },
  // pilot-agent's endpoint: it stops the proxy and itself.
  skipInbound: (port) => ({ 'traffic.sidecar.istio.io/excludeInboundPorts': String(port) }),
  controlPlane: { namespace: 'istio-system', workloads: [{ kind: 'Deployment', name: 'istiod' }] },
  sidecar: { container: 'istio-proxy', quitUrl: 'http://127.0.0.1:15020/quitquitquit' },
  clusterOptions: [ISTIOD_URL],
  smpType: 'istio',
  inEffect: async (c) => (await import('./in-effect.js')).istioWatch(c),
  requests: ISTIO_REQUESTS,
};

type DataPlane = 'sidecar' | 'proxyless';

function renderIstio(adapter: Mesh, input: Intent | readonly Intent[], ctx: RenderContext, plane: DataPlane): Rendered {
    const all = asList(input);
    const supports = adapter.supportAll(all, ctx.meshVersion);
    const intents = runnableOf(all, supports);
    const v1 = atLeast(ctx.meshVersion, '1.22');
    const net = `networking.istio.io/${v1 ? 'v1' : 'v1beta1'}`;
    const sec = `security.istio.io/${v1 ? 'v1' : 'v1beta1'}`;
    const objects: K8sObject[] = [];
    const routed = new Set<string>();
    for (const p of policies(intents)) {
      if (p.service === '') {
        if (p.mtls) objects.push(obj(ctx, sec, 'PeerAuthentication', 'default', { spec: { mtls: { mode: p.mtls.mode } } }));
        continue;
      }
      const dr = destinationRule(ctx, net, p, plane);
      if (dr) objects.push(dr);
      if (hasRoute(p)) {
        objects.push(virtualService(ctx, net, p));
        routed.add(p.service);
      }
      if (p.mtls) objects.push(obj(ctx, sec, 'PeerAuthentication', p.service, { spec: { selector: { matchLabels: { app: p.service } }, mtls: { mode: p.mtls.mode } } }));
      if (p.authz) {
        const principals = p.authz.allowFrom.map((c) => `${ctx.trustDomain}/ns/${ctx.namespace}/sa/${c}`);
        objects.push(obj(ctx, sec, 'AuthorizationPolicy', `${p.service}-allow`, { spec: { selector: { matchLabels: { app: p.service } }, action: 'ALLOW', rules: [{ from: [{ source: { principals } }] }] } }));
      }
    }
    // Without a VirtualService, Istio's default retry policy applies (2 attempts on connect-failure,
    // refused-stream, unavailable, cancelled, retriable-status-codes; proxyless gRPC too): every other
    // service of the app gets a route with retries off, so no load meets retries the scenario did not state.
    for (const s of ctx.services) if (!routed.has(s.name)) objects.push(virtualService(ctx, net, { service: s.name }));
    if (plane === 'proxyless') {
      // Auto-mTLS does not reach proxyless clients: without tls ISTIO_MUTUAL in a DestinationRule they
      // call in plaintext (STRICT refuses them, and a server sees no caller identity to authorize).
      for (const s of ctx.services) if (!objects.some((o) => o.kind === 'DestinationRule' && o.metadata.name === s.name)) objects.push(destinationRule(ctx, net, { service: s.name }, plane)!);
    }
    return rendered(all, supports, objects);
}

function destinationRule(ctx: RenderContext, api: string, p: ServicePolicy, plane: DataPlane): K8sObject | undefined {
  const subsets = p.split || p.header ? versionsOf(ctx, p.service).map((v) => ({ name: v, labels: { version: v } })) : undefined;
  const connectionPool = p.pool ? {
    tcp: { maxConnections: p.pool.maxConnections },
    http: { http1MaxPendingRequests: p.pool.maxPendingRequests, ...(p.pool.maxRequests !== undefined ? { http2MaxRequests: p.pool.maxRequests } : {}) },
  } : undefined;
  const outlierDetection = p.outlier ? {
    consecutive5xxErrors: p.outlier.consecutive5xx,
    interval: goDuration(p.outlier.intervalMs),
    baseEjectionTime: goDuration(p.outlier.baseEjectionMs),
    maxEjectionPercent: ejectionCap(ctx, p.outlier),
  } : undefined;
  const tls = plane === 'proxyless' ? { mode: 'ISTIO_MUTUAL' } : undefined;
  if (!subsets && !connectionPool && !outlierDetection && !tls) return undefined;
  const trafficPolicy = connectionPool || outlierDetection || tls ? { connectionPool, outlierDetection, tls } : undefined;
  return obj(ctx, api, 'DestinationRule', p.service, { spec: { host: fqdn(ctx, p.service), trafficPolicy, subsets } });
}

function virtualService(ctx: RenderContext, api: string, p: ServicePolicy): K8sObject {
  const host = fqdn(ctx, p.service);
  const fault = p.delay || p.abort ? {
    delay: p.delay ? { fixedDelay: goDuration(p.delay.delayMs), percentage: { value: p.delay.percent } } : undefined,
    abort: p.abort ? { httpStatus: p.abort.httpStatus, percentage: { value: p.abort.percent } } : undefined,
  } : undefined;
  // Istio retries by default (2 attempts on connect-failure, refused-stream, unavailable, cancelled).
  // Unless the scenario states a retry policy, turn them off so they cannot hide an injected fault.
  const retries = p.retry
    ? { attempts: p.retry.attempts, ...(p.retry.attempts > 0 ? { retryOn: p.retry.retryOn.join(','), ...(p.retry.perTryTimeoutMs ? { perTryTimeout: goDuration(p.retry.perTryTimeoutMs) } : {}) } : {}) }
    : { attempts: 0 };
  const common = { fault, retries, ...(p.timeout ? { timeout: goDuration(p.timeout.timeoutMs) } : {}) };
  const route = p.split
    ? p.split.weights.map((w) => ({ destination: { host, subset: w.version }, weight: w.weight }))
    : [{ destination: { host } }];
  const http: Record<string, unknown>[] = [];
  if (p.header) http.push({ name: 'header-route', match: [{ headers: { [p.header.header.toLowerCase()]: { exact: p.header.value } } }], route: [{ destination: { host, subset: p.header.version } }], ...common });
  http.push({ name: 'default', route, ...common });
  return obj(ctx, api, 'VirtualService', p.service, { spec: { hosts: [host], http } });
}

/** Why each intent the proxyless data plane cannot take is NOT_SUPPORTED there (measured with istiod 1.31, grpc-go 1.82). */
const PROXYLESS_UNSUPPORTED = {
  outlier: "istiod's gRPC generator sends no outlier detection in CDS to proxyless clients (pilot/pkg/networking/grpcgen/cds.go; the served CDS has none)",
  pool: 'proxyless gRPC takes only connectionPool.http.http2MaxRequests; max connections and pending requests are not translated for it (no TCP pool in grpc-go)',
  retry: "grpc-go retries on gRPC status codes, but not on another host: it ignores the retry_host_predicate (previous_hosts) Istio sets, so a retry can land on the same failing instance (measured: 4 retries against a backend failing half its calls left 34 of 1000 failed, the 3.1% of independent picks); Envoy's retries skip the hosts already tried",
  permissive: "istiod serves a proxyless server plaintext only (workload not marked security.istio.io/tlsMode=istio) or mTLS only (marked, as meshcheck's are), never both, and auto-mTLS does not reach proxyless clients: PERMISSIVE's plaintext-and-mTLS does not exist on this data plane (measured with istiod 1.31)",
} as const;

/**
 * Istio with its proxyless gRPC data plane (grpc-go's xDS client and server, no sidecar): the same
 * objects, plus what gRPC needs (tls ISTIO_MUTUAL in every DestinationRule), and
 * NOT_SUPPORTED where istiod does not translate a field for proxyless.
 */
export const istioProxyless: Mesh = {
  ...istio,
  title: 'Istio (proxyless gRPC)',
  // The version the Istio tier builds and runs (scripts/build-istio.sh).
  defaultVersion: '1.31',
  dataPlane: 'proxyless gRPC',
  // grpc-go is linked into each workload: no sidecar container.
  sidecar: undefined,
  support(intent: Intent): Support {
    switch (intent.kind) {
      case 'OutlierDetection': return { level: 'unsupported', reason: PROXYLESS_UNSUPPORTED.outlier };
      case 'ConnectionPool': return { level: 'unsupported', reason: PROXYLESS_UNSUPPORTED.pool };
      case 'MtlsMode':
        return intent.mode === 'PERMISSIVE' ? { level: 'unsupported', reason: PROXYLESS_UNSUPPORTED.permissive } : { level: 'native', via: 'PeerAuthentication STRICT and DestinationRule tls ISTIO_MUTUAL (xDS credentials in grpc-go)' };
      case 'Retry': return intent.attempts > 0 ? { level: 'unsupported', reason: PROXYLESS_UNSUPPORTED.retry } : { level: 'native', via: 'VirtualService http[].retries attempts 0 (no retries)' };
      case 'Timeout': return { level: 'native', via: 'VirtualService http[].timeout, served as the route\'s max_stream_duration (DEADLINE_EXCEEDED)' };
      case 'Authorization': return { level: 'native', via: "AuthorizationPolicy ALLOW with source principals, the RBAC filter of grpc-go's xDS server (PERMISSION_DENIED)" };
      default: return istio.support(intent);
    }
  },
  // supportAll is istio's: the same combination rule over this support().
  render(input, ctx) {
    return renderIstio(this, input, ctx, 'proxyless');
  },
  lacks(feature) {
    switch (feature) {
      case 'mesh-metrics': return 'proxyless gRPC exports no Istio standard metrics (istio_requests_total comes from Envoy sidecars), so there is nothing for Prometheus to count on this data plane';
      case 'sidecar-usage': return 'proxyless gRPC has no sidecar: the data plane (grpc-go) is linked into each workload, so there is no sidecar CPU or memory to measure';
    }
  },
};
