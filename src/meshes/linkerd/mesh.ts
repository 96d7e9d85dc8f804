import type { Intent } from '../../intents/types.js';
import { type K8sObject, obj, patch } from '../../kube/objects.js';
import type { Mesh, RenderContext, Support } from '../types.js';
import { serviceAndDerived } from '../../metrics/promql.js';
import { asList, fqdn, policies, rendered, runnableOf, supportInScenario, type Conflict, type ServicePolicy } from '../render/policy.js';
import { atLeast } from '../version.js';
import { emulatedFaultConflicts, faultBackend, faultBackendName, integerWeights, originName, shares } from '../render/emulation.js';
import { goDuration } from '../../util/duration.js';
import { renderWorkload } from '../render/workload.js';
import { DEFAULT_INBOUND_POLICY } from './facts.js';

const INJECT = { 'linkerd.io/inject': 'enabled' };
const DEFAULT_VERSION = '2.18';
/** Retry conditions Linkerd's retry.linkerd.io/http annotation understands. */
const LINKERD_RETRY_ON = /^(5xx|gateway-error|[1-5]\d\d(-[1-5]\d\d)?)$/;

/**
 * Linkerd: policy.linkerd.io HTTPRoute (routing, fault emulation), Server + AuthorizationPolicy +
 * MeshTLSAuthentication (identity policy), annotations (retries, timeouts, failure accrual).
 * 2.16 changed retries and timeouts (annotations instead of ServiceProfile) and Server gained accessPolicy.
 */
export const linkerd: Mesh = {
  name: 'linkerd',
  title: 'Linkerd',
  defaultVersion: DEFAULT_VERSION,
  versionRange: { min: '2.14', max: '2.20' },
  shape: 'service-per-version',

  support(intent: Intent, version = DEFAULT_VERSION): Support {
    const modern = atLeast(version, '2.16');
    switch (intent.kind) {
      case 'FaultDelay': return { level: 'emulated', how: `HTTPRoute sends ${intent.percent}% to a delay backend (Envoy waiting ${intent.delayMs}ms, then forwarding to the service); Linkerd has no fault injection` };
      case 'FaultAbort': return { level: 'emulated', how: `HTTPRoute sends ${intent.percent}% to an error backend answering ${intent.httpStatus}; Linkerd has no fault injection` };
      case 'TrafficSplit': return { level: 'native', via: 'HTTPRoute backendRefs weights over one Service per version' };
      case 'HeaderRoute': return { level: 'native', via: 'HTTPRoute rules[].matches.headers (Exact)' };
      case 'MtlsMode':
        if (intent.mode === 'PERMISSIVE') return { level: 'native', via: intent.service ? 'Server accessPolicy all-unauthenticated' : 'namespace default-inbound-policy all-unauthenticated' };
        return { level: 'emulated', how: intent.service
          ? (modern ? 'Server with accessPolicy all-authenticated (Linkerd has no mTLS mode; a plaintext HTTP caller gets 403, not a reset)' : 'Server + AuthorizationPolicy requiring any MeshTLSAuthentication identity (plaintext HTTP gets 403)')
          : 'namespace annotation config.linkerd.io/default-inbound-policy: all-authenticated, read when pods start (pods are restarted); plaintext HTTP gets 403' };
      case 'ConnectionPool': return { level: 'unsupported', reason: 'Linkerd has no connection-pool limits (max connections / pending / requests); HTTPLocalRateLimitPolicy limits a rate server-side with 429, which is a different policy' };
      case 'OutlierDetection': return { level: 'emulated', how: 'failure accrual annotations on the Service: consecutive max-failures and min-penalty as the ejection time; Linkerd has no sweep interval and no max-ejection cap (every endpoint can become unavailable)' };
      case 'Retry':
        if (intent.perTryTimeoutMs !== undefined && !modern) return { level: 'unsupported', reason: `per-try timeouts need Linkerd 2.16+ (retry.linkerd.io/timeout); ${version} retries only through a ServiceProfile budget` };
        if (intent.attempts > 0 && intent.retryOn.some((c) => !LINKERD_RETRY_ON.test(c))) return { level: 'unsupported', reason: `Linkerd retries on HTTP status classes only (5xx, gateway-error, codes), not on ${intent.retryOn.filter((c) => !LINKERD_RETRY_ON.test(c)).join(', ')}` };
        if (intent.attempts === 0) return { level: 'native', via: 'no retry configured (Linkerd does not retry by default)' };
        return modern ? { level: 'native', via: 'HTTPRoute annotations retry.linkerd.io/http, /limit, /timeout' }
          : { level: 'emulated', how: 'ServiceProfile route isRetryable with a retry budget: Linkerd before 2.16 retries within a budget, not a fixed count' };
      case 'Timeout': return { level: 'native', via: modern ? 'HTTPRoute annotation timeout.linkerd.io/request' : 'HTTPRoute rules[].timeouts.request (policy.linkerd.io/v1beta3)' };
      case 'Authorization': return { level: 'native', via: 'Server (deny by default) + AuthorizationPolicy requiring a MeshTLSAuthentication of the allowed service accounts' };
    }
  },

  supportAll(intents, version = DEFAULT_VERSION) {
    const modern = atLeast(version, '2.16');
    const supports = supportInScenario(intents, (i) => this.support(i, version), (p) => {
      const out: Conflict[] = [];
      if (!modern && p.retry && p.retry.attempts > 0) {
        // While a ServiceProfile exists for a Service, Linkerd ignores its HTTPRoutes and failure accrual.
        const needs = [p.abort && 'the emulated abort', p.delay && 'the emulated delay', p.split && 'the weighted split', p.header && 'the header route', p.outlier && 'failure accrual'].filter(Boolean);
        if (needs.length) out.push({ intent: p.retry, reason: `Linkerd ${version} retries only through a ServiceProfile, and while one exists for ${p.service} Linkerd ignores its HTTPRoutes and failure accrual, so they cannot be combined with ${needs.join(' or ')} (Linkerd 2.16+ retries by HTTPRoute annotations)` });
      }
      return [...out, ...emulatedFaultConflicts(p, 'Linkerd', { headerSkipsAbort: false })];
    });
    if (modern) return supports;
    // Before 2.16, a timeout next to retries goes into the retries' ServiceProfile route.
    const retried = new Set(intents.filter((i, n) => i.kind === 'Retry' && i.attempts > 0 && supports[n]!.level !== 'unsupported').map((i) => (i as { service: string }).service));
    return supports.map((s, n) => {
      const i = intents[n]!;
      return i.kind === 'Timeout' && s.level === 'native' && retried.has(i.service) ? { level: 'native', via: 'ServiceProfile route timeout, next to its retries (a ServiceProfile turns HTTPRoutes off)' } : s;
    });
  },

  render(input, ctx) {
    const all = asList(input);
    const supports = this.supportAll(all, ctx.meshVersion);
    const intents = runnableOf(all, supports);
    const modern = atLeast(ctx.meshVersion, '2.16');
    const objects: K8sObject[] = [];
    for (const p of policies(intents)) {
      if (p.service === '') {
        if (p.mtls) {
          const policy = p.mtls.mode === 'STRICT' ? 'all-authenticated' : 'all-unauthenticated';
          objects.push(patch(ctx, 'v1', 'Namespace', ctx.namespace, {}, { namespace: false, annotations: { [DEFAULT_INBOUND_POLICY]: policy } }));
        }
        continue;
      }
      objects.push(...routes(ctx, p, modern));
      objects.push(...identityPolicy(ctx, p, modern));
      if (p.outlier) {
        objects.push(patch(ctx, 'v1', 'Service', p.service, {}, { annotations: {
          'balancer.linkerd.io/failure-accrual': 'consecutive',
          'balancer.linkerd.io/failure-accrual-consecutive-max-failures': String(p.outlier.consecutive5xx),
          'balancer.linkerd.io/failure-accrual-consecutive-min-penalty': goDuration(p.outlier.baseEjectionMs),
        } }));
      }
      if (p.retry && p.retry.attempts > 0 && !modern) objects.push(serviceProfile(ctx, p));
    }
    return rendered(all, supports, objects);
  },

  workload(ctx) {
    return renderWorkload(ctx, { shape: 'service-per-version', origin: true, namespace: { annotations: INJECT }, pod: () => ({}), skipInbound: (port) => linkerd.skipInbound(port) });
  },
  optOut: { annotations: { 'linkerd.io/inject': 'disabled' } },
  // The proxy's admin /shutdown answers only when the install enabled it (proxy.enableShutdownEndpoint, off since 2.16).
  skipInbound: (port) => ({ 'config.linkerd.io/skip-inbound-ports': String(port) }),
  controlPlane: { namespace: 'linkerd', workloads: ['linkerd-destination', 'linkerd-identity', 'linkerd-proxy-injector'].map((name) => ({ kind: 'Deployment' as const, name })) },
  sidecar: { container: 'linkerd-proxy', quitUrl: 'http://127.0.0.1:4191/shutdown' },
  smpType: 'linkerd',
  // Linkerd's control-plane chart takes its identity from the installer: meshcheck makes one.
  install: { identity: async (values) => (await import('./identity.js')).withLinkerdIdentity(values) },
  inEffect: async (c) => (await import('./in-effect.js')).linkerdWatch(c),
  // The callers' proxies, outbound; a route's backends (per-version Services, fault backends) carry the service's name.
  requests: { counter: 'response_total', codeLabel: 'status_code', select: (s, ns) => ({ direction: 'outbound', dst_service: { re: serviceAndDerived(s) }, dst_namespace: ns }) },
};

function routes(ctx: RenderContext, p: ServicePolicy, modern: boolean): K8sObject[] {
  // Before 2.16 a timeout next to retries lives in the ServiceProfile, which turns HTTPRoutes off.
  const profiled = !modern && Boolean(p.retry && p.retry.attempts > 0);
  const needsRoute = p.delay || p.abort || p.split || p.header || (p.timeout && !profiled) || (p.retry && p.retry.attempts > 0 && modern);
  if (!needsRoute) return [];
  const out: K8sObject[] = [];
  const annotations: Record<string, string> = {};
  if (modern && p.retry && p.retry.attempts > 0) {
    annotations['retry.linkerd.io/http'] = p.retry.retryOn.join(',');
    annotations['retry.linkerd.io/limit'] = String(p.retry.attempts);
    if (p.retry.perTryTimeoutMs) annotations['retry.linkerd.io/timeout'] = goDuration(p.retry.perTryTimeoutMs);
  }
  if (modern && p.timeout) annotations['timeout.linkerd.io/request'] = goDuration(p.timeout.timeoutMs);
  const faulted = Boolean(p.delay || p.abort);
  const list = shares(p);
  const weights = integerWeights(list.map((s) => s.percent));
  const backendName = (s: (typeof list)[number]) => s.target.fault ? faultBackendName(p, s.target.fault)
    : s.target.version ? `${p.service}-${s.target.version}`
    // With a fault share, the rest goes to the origin Service so a delay backend's forwarded call is not re-routed.
    : faulted ? originName(p.service) : p.service;
  const backendRefs = list.map((s, i) => ({ name: backendName(s), port: ctx.port, weight: weights[i] }));
  const timeouts = !modern && p.timeout ? { timeouts: { request: goDuration(p.timeout.timeoutMs) } } : {};
  const rules: Record<string, unknown>[] = [];
  if (p.header) {
    // Header-matched requests get the abort share too, as an injected abort applies to every route.
    const headerShares = shares({ service: p.service, abort: p.abort, split: { kind: 'TrafficSplit', service: p.service, weights: [{ version: p.header.version, weight: 100 }] } });
    const headerWeights = integerWeights(headerShares.map((sh) => sh.percent));
    const headerRefs = headerShares.length === 1 ? [{ name: `${p.service}-${p.header.version}`, port: ctx.port }]
      : headerShares.map((sh, i) => ({ name: backendName(sh), port: ctx.port, weight: headerWeights[i] }));
    rules.push({ matches: [{ headers: [{ type: 'Exact', name: p.header.header.toLowerCase(), value: p.header.value }] }], backendRefs: headerRefs, ...timeouts });
  }
  rules.push({ backendRefs, ...timeouts });
  out.push(obj(ctx, 'policy.linkerd.io/v1beta3', 'HTTPRoute', p.service, {
    spec: { parentRefs: [{ group: 'core', kind: 'Service', name: p.service, port: ctx.port }], rules },
  }, Object.keys(annotations).length ? { annotations } : {}));
  if (p.abort) out.push(...faultBackend(ctx, p, 'abort', {}, { host: '' }));
  if (p.delay) out.push(...faultBackend(ctx, p, 'delay', {}, { host: fqdn(ctx, originName(p.service)) }));
  return out;
}

function identityPolicy(ctx: RenderContext, p: ServicePolicy, modern: boolean): K8sObject[] {
  if (!p.mtls && !p.authz) return [];
  const server = `${p.service}-http`;
  const accessPolicy = p.authz ? 'deny' : p.mtls!.mode === 'STRICT' ? 'all-authenticated' : 'all-unauthenticated';
  const serverApi = modern ? 'policy.linkerd.io/v1beta3' : 'policy.linkerd.io/v1beta1';
  const out: K8sObject[] = [obj(ctx, serverApi, 'Server', server, {
    spec: { podSelector: { matchLabels: { app: p.service } }, port: 'http', proxyProtocol: 'HTTP/1', ...(modern ? { accessPolicy } : {}) },
  })];
  // Before 2.16 a Server denies by default; what it should allow comes from AuthorizationPolicies.
  const authn = p.authz ? p.authz.allowFrom.map((c) => ({ kind: 'ServiceAccount', name: c }))
    : !modern && p.mtls?.mode === 'STRICT' ? 'any-meshed' : undefined;
  if (authn) {
    out.push(obj(ctx, 'policy.linkerd.io/v1alpha1', 'MeshTLSAuthentication', `${p.service}-callers`, {
      spec: authn === 'any-meshed' ? { identities: ['*'] } : { identityRefs: authn },
    }));
    out.push(obj(ctx, 'policy.linkerd.io/v1alpha1', 'AuthorizationPolicy', `${p.service}-allow`, {
      spec: {
        targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: server },
        requiredAuthenticationRefs: [{ group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: `${p.service}-callers` }],
      },
    }));
  } else if (!modern && p.mtls?.mode === 'PERMISSIVE') {
    out.push(obj(ctx, 'policy.linkerd.io/v1alpha1', 'NetworkAuthentication', `${p.service}-any`, { spec: { networks: [{ cidr: '0.0.0.0/0' }, { cidr: '::/0' }] } }));
    out.push(obj(ctx, 'policy.linkerd.io/v1alpha1', 'AuthorizationPolicy', `${p.service}-allow`, {
      spec: { targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: server }, requiredAuthenticationRefs: [{ group: 'policy.linkerd.io', kind: 'NetworkAuthentication', name: `${p.service}-any` }] },
    }));
  }
  return out;
}

/** Linkerd before 2.16: retries come from a ServiceProfile route marked retryable, within a budget. */
function serviceProfile(ctx: RenderContext, p: ServicePolicy): K8sObject {
  return obj(ctx, 'linkerd.io/v1alpha2', 'ServiceProfile', fqdn(ctx, p.service), {
    spec: {
      routes: [{ name: 'all', condition: { pathRegex: '.*' }, isRetryable: true, ...(p.timeout ? { timeout: goDuration(p.timeout.timeoutMs) } : {}) }],
      retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: '10s' },
    },
  });
}
