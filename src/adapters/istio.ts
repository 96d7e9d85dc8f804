import type { Intent } from '../intents/types.js';
import type { K8sObject, MeshAdapter, RenderContext, Support } from './types.js';
import { asList, atLeast, fqdn, goDuration, hasRoute, obj, policies, rendered, renderWorkload, retryAndTimeoutBesideFault, runnableOf, supportInScenario, versionsOf, type ServicePolicy } from './common.js';

/** Istio (sidecar mode): VirtualService, DestinationRule, PeerAuthentication, AuthorizationPolicy. */
export const istio: MeshAdapter = {
  name: 'istio',
  title: 'Istio',
  defaultVersion: '1.30',
  versionRange: { min: '1.20', max: '1.30' },
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
    const all = asList(input);
    const supports = this.supportAll(all, ctx.meshVersion);
    const intents = runnableOf(all, supports);
    const v1 = atLeast(ctx.meshVersion, '1.22');
    const net = `networking.istio.io/${v1 ? 'v1' : 'v1beta1'}`;
    const sec = `security.istio.io/${v1 ? 'v1' : 'v1beta1'}`;
    const objects: K8sObject[] = [];
    for (const p of policies(intents)) {
      if (p.service === '') {
        if (p.mtls) objects.push(obj(ctx, sec, 'PeerAuthentication', 'default', { spec: { mtls: { mode: p.mtls.mode } } }));
        continue;
      }
      const dr = destinationRule(ctx, net, p);
      if (dr) objects.push(dr);
      if (hasRoute(p)) objects.push(virtualService(ctx, net, p));
      if (p.mtls) objects.push(obj(ctx, sec, 'PeerAuthentication', p.service, { spec: { selector: { matchLabels: { app: p.service } }, mtls: { mode: p.mtls.mode } } }));
      if (p.authz) {
        const principals = p.authz.allowFrom.map((c) => `${ctx.trustDomain}/ns/${ctx.namespace}/sa/${c}`);
        objects.push(obj(ctx, sec, 'AuthorizationPolicy', `${p.service}-allow`, { spec: { selector: { matchLabels: { app: p.service } }, action: 'ALLOW', rules: [{ from: [{ source: { principals } }] }] } }));
      }
    }
    return rendered(all, supports, objects);
  },

  workload(ctx) {
    return renderWorkload(ctx, { shape: 'subsets', namespace: { labels: { 'istio-injection': 'enabled' } }, pod: () => ({}) });
  },
};

function destinationRule(ctx: RenderContext, api: string, p: ServicePolicy): K8sObject | undefined {
  const subsets = p.split || p.header ? versionsOf(ctx, p.service).map((v) => ({ name: v, labels: { version: v } })) : undefined;
  const connectionPool = p.pool ? {
    tcp: { maxConnections: p.pool.maxConnections },
    http: { http1MaxPendingRequests: p.pool.maxPendingRequests, ...(p.pool.maxRequests !== undefined ? { http2MaxRequests: p.pool.maxRequests } : {}) },
  } : undefined;
  const outlierDetection = p.outlier ? {
    consecutive5xxErrors: p.outlier.consecutive5xx,
    interval: goDuration(p.outlier.intervalMs),
    baseEjectionTime: goDuration(p.outlier.baseEjectionMs),
    maxEjectionPercent: p.outlier.maxEjectionPercent,
  } : undefined;
  if (!subsets && !connectionPool && !outlierDetection) return undefined;
  const trafficPolicy = connectionPool || outlierDetection ? { connectionPool, outlierDetection } : undefined;
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
