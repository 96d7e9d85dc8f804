import type { Intent } from '../../intents/types.js';
import { type K8sObject, obj } from '../../kube/objects.js';
import type { Mesh, RenderContext, Rendered } from '../types.js';
import { asList, ejectionCap, fqdn, hasRoute, policies, rendered, runnableOf, versionsOf, type ServicePolicy } from '../render/policy.js';
import { atLeast } from '../version.js';
import { goDuration } from '../../util/duration.js';

/** Istio's data planes: Envoy sidecars, or proxyless gRPC (grpc-go's xDS client and server). */
export type DataPlane = 'sidecar' | 'proxyless';

/**
 * The objects of one scenario's intents on Istio: a DestinationRule and a VirtualService per service
 * that needs them, PeerAuthentication and AuthorizationPolicy; the same for both data planes, plus what
 * proxyless gRPC needs (tls ISTIO_MUTUAL in every DestinationRule).
 */
export function renderIstio(adapter: Mesh, input: Intent | readonly Intent[], ctx: RenderContext, plane: DataPlane): Rendered {
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

