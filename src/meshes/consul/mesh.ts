import type { Intent } from '../../intents/types.js';
import { type K8sObject, obj, patch } from '../../kube/objects.js';
import type { Mesh, RenderContext, Support } from '../types.js';
import { serviceAndDerived } from '../../metrics/promql.js';
import { asList, callersOf, ejectionCap, policies, rendered, retryAndTimeoutBesideFault, runnableOf, supportInScenario, versionsOf, type ServicePolicy } from '../render/policy.js';
import { atLeast } from '../version.js';
import { emulatedFaultConflicts, faultBackend, faultBackendName, shares } from '../render/emulation.js';
import { goDuration } from '../../util/duration.js';
import { renderWorkload } from '../render/workload.js';

const API = 'consul.hashicorp.com/v1alpha1';
const DEFAULT_VERSION = '1.21';
/** Header a delay backend adds so its forwarded call skips the splitter that sent it there. */
const BYPASS = 'x-meshcheck-fault-bypass';
const CONSUL_RETRY_ON = new Set(['5xx', 'gateway-error', 'reset', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx', 'refused-stream', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);

/** Is this an Enterprise build? Versions are written "1.21" (CE) or "1.21+ent". */
function enterprise(version: string): boolean {
  return /\+ent\b/.test(version);
}

/**
 * Consul on Kubernetes (consul-k8s, dataplane): config entries ServiceDefaults, ServiceRouter,
 * ServiceSplitter, ServiceResolver, ServiceIntentions. Fault injection is Enterprise-only (1.18+):
 * on CE it is emulated by a ServiceSplitter share to an error or delay backend.
 */
export const consul: Mesh = {
  name: 'consul',
  title: 'Consul',
  defaultVersion: DEFAULT_VERSION,
  versionRange: { min: '1.16', max: '2.0' },
  shape: 'subsets',

  support(intent: Intent, version = DEFAULT_VERSION): Support {
    const nativeFaults = enterprise(version) && atLeast(version, '1.18');
    switch (intent.kind) {
      case 'FaultDelay':
        return nativeFaults ? { level: 'native', via: 'ServiceDefaults envoyExtensions builtin/fault-injection delay (Enterprise)' }
          : { level: 'emulated', how: `ServiceSplitter sends ${intent.percent}% to a delay backend (Envoy waiting ${intent.delayMs}ms, then forwarding); fault injection is Enterprise-only` };
      case 'FaultAbort':
        return nativeFaults ? { level: 'native', via: 'ServiceDefaults envoyExtensions builtin/fault-injection abort (Enterprise)' }
          : { level: 'emulated', how: `ServiceSplitter sends ${intent.percent}% to an error backend answering ${intent.httpStatus}; fault injection is Enterprise-only` };
      case 'TrafficSplit': return { level: 'native', via: 'ServiceSplitter over ServiceResolver subsets (Service.Meta.version)' };
      case 'HeaderRoute': return { level: 'native', via: 'ServiceRouter match.http.header exact to a ServiceResolver subset' };
      case 'MtlsMode':
        if (intent.mode === 'STRICT') return { level: 'native', via: intent.service ? 'ServiceDefaults mutualTLSMode: strict' : 'ProxyDefaults global mutualTLSMode: strict' };
        if (!atLeast(version, '1.16')) return { level: 'unsupported', reason: `permissive mTLS needs Consul 1.16+ (this is ${version})` };
        return { level: 'native', via: `Mesh allowEnablingPermissiveMutualTLS + ${intent.service ? 'ServiceDefaults' : 'ProxyDefaults global'} mutualTLSMode: permissive (intentions are not enforced for plaintext callers)` };
      case 'ConnectionPool': return { level: 'native', via: "callers' ServiceDefaults upstreamConfig.overrides[].limits" };
      case 'OutlierDetection': return { level: 'native', via: "callers' ServiceDefaults upstreamConfig.overrides[].passiveHealthCheck" };
      case 'Retry':
        if (intent.perTryTimeoutMs !== undefined) return { level: 'unsupported', reason: 'Consul has no per-try timeout (ServiceRouter has requestTimeout for the whole call only)' };
        if (intent.retryOn.some((c) => !CONSUL_RETRY_ON.has(c) && !/^\d{3}$/.test(c))) return { level: 'unsupported', reason: `ServiceRouter retryOn does not know ${intent.retryOn.filter((c) => !CONSUL_RETRY_ON.has(c) && !/^\d{3}$/.test(c)).join(', ')}` };
        return { level: 'native', via: 'ServiceRouter destination numRetries / retryOn / retryOnStatusCodes' };
      case 'Timeout': return { level: 'native', via: 'ServiceRouter destination requestTimeout' };
      case 'Authorization': return { level: 'native', via: 'ServiceIntentions: allow the callers, deny "*"' };
    }
  },

  supportAll(intents, version = DEFAULT_VERSION) {
    const nativeFaults = enterprise(version) && atLeast(version, '1.18');
    return supportInScenario(intents, (i) => this.support(i, version), (p) => {
      if (!nativeFaults) return emulatedFaultConflicts(p, 'Consul CE', { headerSkipsAbort: true });
      // The extension is configured on the destination; whether the caller's retries and timeout see its
      // faults as the upstream's answers (unlike a caller-side fault filter) is not verified here.
      return retryAndTimeoutBesideFault(p, (what) => `the fault-injection extension is configured on the ServiceDefaults of ${p.service} itself; whether the caller's ${what === 'timeout' ? 'request timeout' : what} would act on its injected faults (an Envoy caller-side fault is never retried and its delay is not timed) is not verified, so meshcheck does not combine them`);
    });
  },

  render(input, ctx) {
    const all = asList(input);
    const supports = this.supportAll(all, ctx.meshVersion);
    const intents = runnableOf(all, supports);
    const nativeFaults = enterprise(ctx.meshVersion) && atLeast(ctx.meshVersion, '1.18');
    const defaults = new Map<string, Record<string, unknown>>();
    const sd = (name: string) => {
      const d = defaults.get(name) ?? { protocol: 'http' };
      defaults.set(name, d);
      return d;
    };
    const objects: K8sObject[] = [];
    const globals: K8sObject[] = [];
    for (const p of policies(intents)) {
      if (p.service === '') {
        if (p.mtls) {
          if (p.mtls.mode === 'PERMISSIVE') globals.push(meshPermissive(ctx));
          globals.push(patch(ctx, API, 'ProxyDefaults', 'global', { spec: { mutualTLSMode: p.mtls.mode.toLowerCase() } }));
        }
        continue;
      }
      const own = sd(p.service);
      if (p.mtls) {
        own.mutualTLSMode = p.mtls.mode.toLowerCase();
        if (p.mtls.mode === 'PERMISSIVE') globals.push(meshPermissive(ctx));
      }
      if (nativeFaults && (p.abort || p.delay)) {
        own.envoyExtensions = [{ name: 'builtin/fault-injection', arguments: { config: {
          ...(p.abort ? { abort: { httpStatus: p.abort.httpStatus, percentage: p.abort.percent } } : {}),
          ...(p.delay ? { delay: { duration: p.delay.delayMs, percentage: p.delay.percent } } : {}),
        } } }];
      }
      if (p.pool || p.outlier) {
        for (const caller of callersOf(ctx, p.service)) {
          const d = sd(caller);
          const overrides = (d.upstreamConfig as { overrides: unknown[] } | undefined)?.overrides ?? [];
          overrides.push({
            name: p.service,
            ...(p.pool
              ? {
                  limits: {
                    maxConnections: p.pool.maxConnections,
                    maxPendingRequests: p.pool.maxPendingRequests,
                    ...(p.pool.maxRequests !== undefined ? { maxConcurrentRequests: p.pool.maxRequests } : {}),
                  },
                }
              : {}),
            ...(p.outlier
              ? {
                  passiveHealthCheck: {
                    interval: goDuration(p.outlier.intervalMs),
                    maxFailures: p.outlier.consecutive5xx,
                    baseEjectionTime: goDuration(p.outlier.baseEjectionMs),
                    maxEjectionPercent: ejectionCap(ctx, p.outlier),
                  },
                }
              : {}),
          });
          d.upstreamConfig = { overrides };
        }
      }
      objects.push(...chain(ctx, p, nativeFaults, sd));
      if (p.authz) objects.push(intentions(ctx, p.service, p.authz.allowFrom, true));
    }
    const sdObjects = [...defaults].map(([name, spec]) => obj(ctx, API, 'ServiceDefaults', name, { spec }));
    return rendered(all, supports, [...dedupe(globals), ...sdObjects, ...objects]);
  },

  workload(ctx) {
    return [
      ...renderWorkload(ctx, {
        shape: 'subsets', namespace: {},
        pod: (_s, version) => ({ 'consul.hashicorp.com/connect-inject': 'true', 'consul.hashicorp.com/service-meta-version': version }),
        skipInbound: (port) => consul.skipInbound(port),
      }),
      // With ACLs managed (global.acls.manageSystemACLs) intentions deny by default: allow the app's own call paths.
      ...ctx.services.map((svc) => intentions(ctx, svc.name, callersOf(ctx, svc.name))),
    ];
  },
  optOut: { annotations: { 'consul.hashicorp.com/connect-inject': 'false' } },
  skipInbound: (port) => ({ 'consul.hashicorp.com/transparent-proxy-exclude-inbound-ports': String(port) }),
  controlPlane: { namespace: 'consul', workloads: [{ kind: 'StatefulSet', name: 'consul-server' }, { kind: 'Deployment', name: 'consul-connect-injector' }] },
  sidecar: { container: 'consul-dataplane' },
  smpType: 'consul',
  inEffect: async (c) => (await import('./in-effect.js')).consulWatch(c),
  // Envoy's upstream counter in the callers' proxies; Consul's stats tags name the destination service.
  // `namespace` is the scraped pod's, as the usual kubernetes-pods scrape job labels it.
  requests: { counter: 'envoy_cluster_upstream_rq', codeLabel: 'envoy_response_code', select: (s, ns) => ({ consul_destination_service: { re: serviceAndDerived(s) }, namespace: ns }) },
};

/** The one ServiceIntentions of a destination: allow these callers (and deny everyone else when `denyOthers`). */
function intentions(ctx: RenderContext, destination: string, allow: readonly string[], denyOthers = false): K8sObject {
  return obj(ctx, API, 'ServiceIntentions', destination, {
    spec: { destination: { name: destination }, sources: [...allow.map((name) => ({ name, action: 'allow' })), ...(denyOthers ? [{ name: '*', action: 'deny' }] : [])] },
  });
}

function meshPermissive(ctx: RenderContext): K8sObject {
  return patch(ctx, API, 'Mesh', 'mesh', { spec: { allowEnablingPermissiveMutualTLS: true } });
}

function dedupe(list: K8sObject[]): K8sObject[] {
  const seen = new Set<string>();
  return list.filter((o) => !seen.has(`${o.kind}/${o.metadata.name}`) && Boolean(seen.add(`${o.kind}/${o.metadata.name}`)));
}

/** Router -> splitter -> resolver for one service, plus the emulation backends a splitter sends shares to. */
function chain(ctx: RenderContext, p: ServicePolicy, nativeFaults: boolean, sd: (name: string) => Record<string, unknown>): K8sObject[] {
  const out: K8sObject[] = [];
  const emulated = !nativeFaults && Boolean(p.abort || p.delay);
  const subsets = p.split || p.header || (emulated && p.delay);
  if (subsets) {
    const s: Record<string, { filter: string }> = {};
    if (p.split || p.header) for (const v of versionsOf(ctx, p.service)) s[v] = { filter: `Service.Meta.version == ${v}` };
    // Every instance, for the delay backend's forwarded call (an empty filter matches all).
    if (emulated && p.delay) s.all = { filter: '' };
    out.push(obj(ctx, API, 'ServiceResolver', p.service, { spec: { subsets: s } }));
  }
  if (p.split || emulated) {
    const splits = shares({ ...p, abort: nativeFaults ? undefined : p.abort, delay: nativeFaults ? undefined : p.delay }).map((sh) => ({
      weight: Number(sh.percent.toFixed(4)),
      ...(sh.target.fault ? { service: faultBackendName(p, sh.target.fault) } : sh.target.version ? { serviceSubset: sh.target.version } : {}),
    }));
    out.push(obj(ctx, API, 'ServiceSplitter', p.service, { spec: { splits } }));
  }
  const destination = {
    ...(p.timeout ? { requestTimeout: goDuration(p.timeout.timeoutMs) } : {}),
    ...(p.retry ? retryFields(p.retry) : {}),
  };
  const routes: Record<string, unknown>[] = [];
  // The delay backend marks its forwarded call; this route sends it past the splitter to every instance.
  if (emulated && p.delay) routes.push({ match: { http: { header: [{ name: BYPASS, exact: 'true' }] } }, destination: { serviceSubset: 'all', ...destination } });
  if (p.header)
    routes.push({
      match: { http: { header: [{ name: p.header.header.toLowerCase(), exact: p.header.value }] } },
      destination: { serviceSubset: p.header.version, ...destination },
    });
  if (p.timeout || p.retry) routes.push({ match: { http: { pathPrefix: '/' } }, destination });
  if (routes.length) out.push(obj(ctx, API, 'ServiceRouter', p.service, { spec: { routes } }));
  if (emulated) {
    const callers = callersOf(ctx, p.service);
    for (const kind of ['abort', 'delay'] as const) {
      if (!p[kind]) continue;
      const name = faultBackendName(p, kind);
      sd(name);
      out.push(...faultBackend(ctx, p, kind, { 'consul.hashicorp.com/connect-inject': 'true' }, { host: `${p.service}.${ctx.namespace}.svc.cluster.local`, headers: { [BYPASS]: 'true' } }));
      out.push(intentions(ctx, name, callers));
    }
    // The delay backend forwards to the service under its own name: allow it next to the usual callers.
    if (p.delay) out.push(intentions(ctx, p.service, [...callers, faultBackendName(p, 'delay')]));
  }
  return out;
}

function retryFields(r: NonNullable<ServicePolicy['retry']>): Record<string, unknown> {
  if (r.attempts === 0) return { numRetries: 0 };
  const codes = r.retryOn.filter((c) => /^\d{3}$/.test(c)).map(Number);
  const on = r.retryOn.filter((c) => !/^\d{3}$/.test(c) && c !== 'connect-failure');
  return {
    numRetries: r.attempts,
    ...(r.retryOn.includes('connect-failure') ? { retryOnConnectFailure: true } : {}),
    ...(on.length ? { retryOn: on } : {}),
    ...(codes.length ? { retryOnStatusCodes: codes } : {}),
  };
}
