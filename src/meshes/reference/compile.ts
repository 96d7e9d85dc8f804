import { principalOf, spiffeId } from '../../app/topology.js';
import { defaults } from '../../config.js';
import type { Intent } from '../../intents/types.js';
import type { Endpoint, RouteConfig, SidecarConfig } from '../../dataplane/config.js';

/**
 * Compiles the active intents into one config per sidecar. Pure: the same intents and
 * endpoints always give the same configs; the version number is the caller's.
 */
export function compileConfig(version: number, service: string, intents: readonly Intent[], endpoints: Record<string, Endpoint[]>): SidecarConfig {
  const outbound: Record<string, RouteConfig> = {};
  const route = (svc: string): RouteConfig => (outbound[svc] ??= { headerRoutes: [] });
  let mtlsMode: 'STRICT' | 'PERMISSIVE' = 'PERMISSIVE';
  let serviceMode: 'STRICT' | 'PERMISSIVE' | undefined;
  let allowPrincipals: string[] | undefined;
  for (const i of intents) {
    switch (i.kind) {
      case 'FaultDelay': route(i.service).faultDelay = { percent: i.percent, delayMs: i.delayMs }; break;
      case 'FaultAbort': route(i.service).faultAbort = { percent: i.percent, httpStatus: i.httpStatus }; break;
      case 'TrafficSplit': route(i.service).weights = i.weights.map((w) => ({ ...w })); break;
      case 'HeaderRoute': route(i.service).headerRoutes.push({ header: i.header.toLowerCase(), value: i.value, version: i.version }); break;
      case 'ConnectionPool': route(i.service).pool = { maxConnections: i.maxConnections, maxPendingRequests: i.maxPendingRequests, maxRequests: i.maxRequests }; break;
      case 'OutlierDetection': route(i.service).outlier = { consecutive5xx: i.consecutive5xx, intervalMs: i.intervalMs, baseEjectionMs: i.baseEjectionMs, maxEjectionPercent: i.maxEjectionPercent }; break;
      case 'Retry': route(i.service).retry = { attempts: i.attempts, perTryTimeoutMs: i.perTryTimeoutMs, retryOn: [...i.retryOn] }; break;
      case 'Timeout': route(i.service).timeoutMs = i.timeoutMs; break;
      case 'MtlsMode':
        // A service-level mode wins over the namespace-wide one, as a workload-selector PeerAuthentication does.
        if (i.service === undefined) mtlsMode = i.mode;
        else if (i.service === service) serviceMode = i.mode;
        break;
      case 'Authorization':
        if (i.service === service) {
          const ids = i.allowFrom.map((caller) => principalOf(spiffeId(defaults.trustDomain, defaults.namespace, caller)));
          allowPrincipals = [...(allowPrincipals ?? []), ...ids];
        }
        break;
    }
  }
  return { version, endpoints, outbound, inbound: { mtlsMode: serviceMode ?? mtlsMode, allowPrincipals } };
}

