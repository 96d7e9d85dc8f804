import { ENVOY_ADMIN, SIDECAR_CONTAINER } from './facts.js';
import type { Intent } from '../../intents/types.js';
import { type K8sObject, obj, patch } from '../../kube/objects.js';
import type { Mesh, RenderContext, Support } from '../types.js';
import { serviceAndDerived } from '../../metrics/promql.js';
import { asList, callersOf, fqdn, policies, rendered, runnableOf, supportInScenario, type ServicePolicy } from '../render/policy.js';
import { emulatedFaultConflicts, faultBackend, faultBackendName, integerWeights, originName, shares } from '../render/emulation.js';
import { goDuration } from '../../util/duration.js';
import { renderWorkload } from '../render/workload.js';

const POLICY = 'policy.openservicemesh.io/v1alpha1';
/** Where `osm install` puts the mesh's MeshConfig (default mesh name osm, namespace osm-system). */
const MESH_CONFIG = { name: 'osm-mesh-config', namespace: 'osm-system' };

/**
 * Open Service Mesh 1.2 (archived July 2023): SMI TrafficSplit v1alpha2, TrafficTarget + HTTPRouteGroup,
 * UpstreamTrafficSetting, Retry (behind a MeshConfig feature flag).
 */
export const osm: Mesh = {
  name: 'osm',
  title: 'Open Service Mesh',
  defaultVersion: '1.2',
  versionRange: { min: '1.2', max: '1.2' },
  shape: 'service-per-version',

  support(intent: Intent): Support {
    switch (intent.kind) {
      case 'FaultDelay': return { level: 'emulated', how: `TrafficSplit sends ${intent.percent}% to a delay backend (Envoy waiting ${intent.delayMs}ms, then forwarding); OSM has no fault injection` };
      case 'FaultAbort': return { level: 'emulated', how: `TrafficSplit sends ${intent.percent}% to an error backend answering ${intent.httpStatus}; OSM has no fault injection` };
      case 'TrafficSplit': return { level: 'native', via: 'SMI TrafficSplit v1alpha2 over one Service per version' };
      case 'HeaderRoute': return { level: 'unsupported', reason: 'OSM serves TrafficSplit v1alpha2 only, which has no header matches; HTTPRouteGroup headers are used for authorization, not routing' };
      case 'MtlsMode':
        return intent.mode === 'STRICT'
          ? { level: 'native', via: 'always on: OSM requires mTLS between meshed pods and cannot turn it off' }
          : { level: 'unsupported', reason: 'OSM has no permissive mTLS mode (enablePermissiveTrafficPolicyMode is an authorization switch, not mTLS)' };
      case 'ConnectionPool': return { level: 'native', via: 'UpstreamTrafficSetting connectionSettings' };
      case 'OutlierDetection': return { level: 'unsupported', reason: 'OSM 1.2 has no outlier detection (UpstreamTrafficSetting has connectionSettings and rateLimit only)' };
      case 'Retry':
        if (intent.attempts === 0) return { level: 'native', via: 'no Retry policy (OSM does not retry by default)' };
        return { level: 'native', via: 'Retry policy per caller service account (MeshConfig featureFlags.enableRetryPolicy turned on); OSM sets no retry host predicate, so a retry may go to the instance that just failed' };
      case 'Timeout': return { level: 'emulated', how: 'OSM has no request timeout: a Retry policy with numRetries 0 and perTryTimeout as the timeout (best effort)' };
      case 'Authorization': return { level: 'native', via: "TrafficTarget with an HTTPRouteGroup, after turning MeshConfig's permissive traffic policy off; that switch is mesh-wide: meshcheck adds TrafficTargets for the rest of its own application, but other namespaces on this mesh without TrafficTargets lose traffic while the scenario runs; a caller it denies gets its connection closed by Envoy's network RBAC filter, never a 403 (OSM 1.2.4's inbound filter chain; measured on meshcheck's node)" };
    }
  },

  supportAll(intents) {
    return supportInScenario(intents, (i) => this.support(i), (p) => [
      ...(p.timeout && p.retry && p.retry.attempts > 0
        ? [{ intent: p.timeout, reason: `OSM has no request timeout; its emulation is a Retry policy's perTryTimeout, and the retry policy of ${p.service} already takes the one Retry per caller, so its timeout cannot be expressed next to its retries` }]
        : []),
      ...emulatedFaultConflicts(p, 'OSM', { headerSkipsAbort: false }),
    ]);
  },

  render(input, ctx) {
    const all = asList(input);
    const supports = this.supportAll(all);
    const intents = runnableOf(all, supports);
    const objects: K8sObject[] = [];
    const meshConfig: { featureFlags?: Record<string, boolean>; traffic?: Record<string, boolean> } = {};
    const ps = policies(intents);
    for (const p of ps) {
      if (p.service === '') continue; // STRICT for the namespace: always on, nothing to apply
      if (p.split || p.abort || p.delay) objects.push(...trafficSplit(ctx, p));
      if (p.pool) {
        objects.push(obj(ctx, POLICY, 'UpstreamTrafficSetting', p.service, {
          spec: {
            host: fqdn(ctx, p.service),
            connectionSettings: {
              tcp: { maxConnections: p.pool.maxConnections },
              http: { maxPendingRequests: p.pool.maxPendingRequests, ...(p.pool.maxRequests !== undefined ? { maxRequests: p.pool.maxRequests } : {}) },
            },
          },
        }));
      }
      const retryPolicy = p.retry && p.retry.attempts > 0
        // The CRD requires perTryTimeout and retryBackoffBaseInterval. Without a stated per-try timeout,
        // use Envoy's default route timeout (15s); the backoff is OSM's documented default (25ms).
        ? { retryOn: p.retry.retryOn.join(','), numRetries: p.retry.attempts, perTryTimeout: goDuration(p.retry.perTryTimeoutMs ?? 15_000), retryBackoffBaseInterval: '25ms' }
        : p.timeout ? { retryOn: '5xx', numRetries: 0, perTryTimeout: goDuration(p.timeout.timeoutMs), retryBackoffBaseInterval: '25ms' } : undefined;
      if (retryPolicy) {
        meshConfig.featureFlags = { enableRetryPolicy: true };
        for (const caller of callersOf(ctx, p.service)) {
          objects.push(obj(ctx, POLICY, 'Retry', `${caller}-to-${p.service}`, {
            spec: { source: { kind: 'ServiceAccount', name: caller, namespace: ctx.namespace }, destinations: [{ kind: 'Service', name: p.service, namespace: ctx.namespace }], retryPolicy },
          }));
        }
      }
      if (p.authz) {
        meshConfig.traffic = { enablePermissiveTrafficPolicyMode: false };
        objects.push(...trafficTarget(ctx, p.service, p.authz.allowFrom));
      }
    }
    if (meshConfig.traffic) {
      // Permissive traffic policy is off mesh-wide: every other call path of the application (and to the
      // fault backends) needs its own TrafficTarget, or it is denied too.
      const guarded = new Set(ps.filter((p) => p.authz).map((p) => p.service));
      const backends = ps.flatMap((p) => (['abort', 'delay'] as const).filter((k) => p[k]).map((k) => ({ name: faultBackendName(p, k), kind: k, service: p.service })));
      for (const svc of ctx.services) {
        if (guarded.has(svc.name)) continue;
        const delayers = backends.filter((b) => b.kind === 'delay' && b.service === svc.name).map((b) => b.name);
        objects.push(...trafficTarget(ctx, svc.name, [...callersOf(ctx, svc.name), ...delayers]));
      }
      for (const b of backends) objects.push(...trafficTarget(ctx, b.name, callersOf(ctx, b.service)));
    }
    const head = Object.keys(meshConfig).length
      ? [patch(ctx, 'config.openservicemesh.io/v1alpha2', 'MeshConfig', MESH_CONFIG.name, { spec: meshConfig }, { namespace: MESH_CONFIG.namespace })]
      : [];
    return rendered(all, supports, [...head, ...objects]);
  },

  workload(ctx) {
    return renderWorkload(ctx, {
      shape: 'service-per-version', origin: true,
      namespace: { labels: { 'openservicemesh.io/monitored-by': 'osm' }, annotations: { 'openservicemesh.io/sidecar-injection': 'enabled', 'openservicemesh.io/metrics': 'enabled' } },
      pod: () => ({}),
      skipInbound: (port) => osm.skipInbound(port),
    });
  },
  optOut: { annotations: { 'openservicemesh.io/sidecar-injection': 'disabled' } },
  skipInbound: (port) => ({ 'openservicemesh.io/inbound-port-exclusion-list': String(port) }),
  controlPlane: { namespace: 'osm-system', workloads: ['osm-controller', 'osm-injector', 'osm-bootstrap'].map((name) => ({ kind: 'Deployment' as const, name })) },
  sidecar: { container: SIDECAR_CONTAINER, quitUrl: `${ENVOY_ADMIN}/quitquitquit`, readyUrl: `${ENVOY_ADMIN}/ready` },
  inEffect: async (c) => (await import('./in-effect.js')).osmWatch(c),
  // Envoy's upstream counter in the callers' proxies; OSM names the upstream cluster "<namespace>/<service>|<port>".
  requests: { counter: 'envoy_cluster_upstream_rq', codeLabel: 'envoy_response_code', select: (s, ns) => ({ envoy_cluster_name: { re: `${ns}/${serviceAndDerived(s)}\\|[0-9]+` } }) },
};

function trafficSplit(ctx: RenderContext, p: ServicePolicy): K8sObject[] {
  const list = shares(p);
  const weights = integerWeights(list.map((s) => s.percent));
  const faulted = Boolean(p.abort || p.delay);
  const backends = list.map((s, i) => ({
    service: s.target.fault ? faultBackendName(p, s.target.fault) : s.target.version ? `${p.service}-${s.target.version}` : faulted ? originName(p.service) : p.service,
    weight: weights[i],
  }));
  const out = [obj(ctx, 'split.smi-spec.io/v1alpha2', 'TrafficSplit', p.service, { spec: { service: p.service, backends } })];
  if (p.abort) out.push(...faultBackend(ctx, p, 'abort', {}, { host: '' }));
  if (p.delay) out.push(...faultBackend(ctx, p, 'delay', {}, { host: fqdn(ctx, originName(p.service)) }));
  return out;
}

/** Allows service accounts to call a service's workload (SMI TrafficTarget over an all-routes HTTPRouteGroup). */
function trafficTarget(ctx: RenderContext, destination: string, sources: readonly string[]): K8sObject[] {
  return [
    obj(ctx, 'specs.smi-spec.io/v1alpha4', 'HTTPRouteGroup', `${destination}-routes`, { spec: { matches: [{ name: 'all', pathRegex: '.*', methods: ['*'] }] } }),
    obj(ctx, 'access.smi-spec.io/v1alpha3', 'TrafficTarget', destination, {
      spec: {
        destination: { kind: 'ServiceAccount', name: destination, namespace: ctx.namespace },
        sources: sources.map((name) => ({ kind: 'ServiceAccount', name, namespace: ctx.namespace })),
        rules: [{ kind: 'HTTPRouteGroup', name: `${destination}-routes`, matches: ['all'] }],
      },
    }),
  ];
}
