import type { K8sObject } from '../../kube/objects.js';
import type { Intent } from '../../intents/types.js';
import type { Resource, XdsWatch } from './xds-watch.js';

export interface ServedContext {
  namespace: string;
  port: number;
  /** Label of the watched client node. */
  client: string;
  /** Names of the running instances of a service (the labels of their watched server nodes). */
  instancesOf: (service: string) => string[];
}

/** A condition on what istiod serves that shows one applied object in effect. */
export interface ServedCheck {
  what: string;
  holds: (w: XdsWatch) => boolean;
}

const host = (c: ServedContext, service: string) => `${service}.${c.namespace}.svc.cluster.local`;

/** The route configuration a gRPC client gets for a service (through its listener's RDS name). */
export function routeOf(w: XdsWatch, c: ServedContext, service: string): Resource | undefined {
  const listener = w.of(c.client, 'lds').find((l) => l.name === `${host(c, service)}:${c.port}`);
  const rds = /"routeConfigName":"([^"]+)"/.exec(JSON.stringify(listener ?? {}))?.[1];
  return w.of(c.client, 'rds').find((r) => r.name === rds);
}

/** The clusters a gRPC client gets for a service (the default one and each subset). */
export function clustersOf(w: XdsWatch, c: ServedContext, service: string): Resource[] {
  return w.of(c.client, 'cds').filter((r) => typeof r.name === 'string' && r.name.endsWith(`|${host(c, service)}`));
}

const text = (x: unknown) => JSON.stringify(x ?? null);

/** Everything istiod serves the watched nodes except endpoints: equal before and after a scenario. */
export function servedState(w: XdsWatch): string {
  const out: Record<string, unknown> = {};
  for (const [node, types] of [...w.snapshot].sort(([a], [b]) => a.localeCompare(b))) {
    out[node] = (['lds', 'rds', 'cds'] as const).map((t) => [...types[t]].sort(([a], [b]) => a.localeCompare(b)));
  }
  return JSON.stringify(out);
}

/** The conditions that show every rendered object served (istiod translated it and pushed it). */
export function appliedPredicates(objects: readonly K8sObject[], c: ServedContext): ServedCheck[] {
  const checks: ServedCheck[] = [];
  for (const o of objects) {
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    if (o.kind === 'VirtualService') {
      const service = o.metadata.name;
      const route = (w: XdsWatch) => text(routeOf(w, c, service));
      for (const r of (spec.http ?? []) as Record<string, unknown>[]) {
        const fault = r.fault as { abort?: { httpStatus: number }; delay?: unknown } | undefined;
        const retries = r.retries as { attempts: number } | undefined;
        if (fault?.abort) checks.push({ what: `abort fault on the route to ${service}`, holds: (w) => /"abort":\{[^}]*"httpStatus":/.test(route(w)) });
        if (fault?.delay) checks.push({ what: `delay fault on the route to ${service}`, holds: (w) => /"delay":\{/.test(route(w)) });
        if (retries) checks.push(retries.attempts > 0
          ? { what: `${retries.attempts} retries on the route to ${service}`, holds: (w) => route(w).includes(`"numRetries":${retries.attempts}`) }
          : { what: `no retries on the route to ${service}`, holds: (w) => routeOf(w, c, service) !== undefined && !route(w).includes('"retryPolicy"') });
        // Istio sends a route timeout to gRPC as max_stream_duration (0s when there is none).
        if (r.timeout) checks.push({ what: `timeout on the route to ${service}`, holds: (w) => /"maxStreamDuration":\{"maxStreamDuration":"(?!0s")/.test(route(w)) });
        for (const m of (r.match ?? []) as { headers?: Record<string, unknown> }[]) {
          for (const h of Object.keys(m.headers ?? {})) checks.push({ what: `header ${h} match on the route to ${service}`, holds: (w) => route(w).includes(`"name":"${h}"`) });
        }
        // A route to a subset names its cluster (weighted or not); the client then asks CDS for it.
        // istiod leaves a destination of weight 0 out of a route with others (its route translation
        // skips it): what it serves then is a route without that subset.
        const destinations = (r.route ?? []) as { destination: { subset?: string }; weight?: number }[];
        for (const d of destinations) {
          const subset = d.destination.subset;
          if (subset && d.weight === 0 && destinations.length > 1) {
            checks.push({ what: `no route to subset ${subset} of ${service} (weight 0)`, holds: (w) => routeOf(w, c, service) !== undefined && !route(w).includes(`|${subset}|${host(c, service)}`) });
          } else if (subset) checks.push({ what: `the route to subset ${subset} of ${service}`, holds: (w) => route(w).includes(`|${subset}|${host(c, service)}`) && clustersOf(w, c, service).some((x) => x.name === `outbound|${c.port}|${subset}|${host(c, service)}`) });
        }
      }
    } else if (o.kind === 'DestinationRule') {
      const service = o.metadata.name;
      const tp = spec.trafficPolicy as { tls?: unknown; connectionPool?: unknown } | undefined;
      if (tp?.tls) checks.push({ what: `mTLS to ${service}`, holds: (w) => { const cl = clustersOf(w, c, service); return cl.length > 0 && cl.every((x) => text(x).includes('"transportSocket"')); } });
      if (tp?.connectionPool) checks.push({ what: `circuit breaker for ${service}`, holds: (w) => clustersOf(w, c, service).some((x) => text(x).includes('"maxRequests"')) });
    } else if (o.kind === 'PeerAuthentication') {
      const sel = (spec.selector as { matchLabels?: { app?: string } } | undefined)?.matchLabels?.app;
      const mode = (spec.mtls as { mode?: string } | undefined)?.mode;
      if (mode === 'STRICT') {
        const services = sel ? [sel] : undefined;
        checks.push({ what: `STRICT mTLS on the inbound listeners of ${sel ?? 'every service'}`, holds: (w) => inbound(w, c, services).every((l) => text(l).includes('"requireClientCertificate":true')) });
      }
    } else if (o.kind === 'AuthorizationPolicy') {
      const sel = (spec.selector as { matchLabels?: { app?: string } } | undefined)?.matchLabels?.app;
      const principals = ((spec.rules ?? []) as { from?: { source?: { principals?: string[] } }[] }[]).flatMap((r) => r.from ?? []).flatMap((f) => f.source?.principals ?? []);
      checks.push({ what: `RBAC filter on the inbound listeners of ${sel ?? 'every service'}`, holds: (w) => inbound(w, c, sel ? [sel] : undefined).every((l) => { const t = text(l); return t.includes('rbac') && principals.every((p) => t.includes(p)); }) });
    }
  }
  return checks;
}

function inbound(w: XdsWatch, c: ServedContext, services?: string[]): Resource[] {
  const names = services ? services.flatMap((s) => c.instancesOf(s)) : [...w.snapshot.keys()].filter((n) => n !== c.client);
  const out = names.flatMap((n) => w.of(n, 'lds'));
  return out.length === names.length ? out : [];
}

/** The parts of what istiod serves that carry each intent: the report's evidence. */
export function servedEvidence(w: XdsWatch, intents: readonly Intent[], c: ServedContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const i of intents) {
    const service = 'service' in i && i.service ? i.service : undefined;
    const key = `${i.kind}${service ? ` ${service}` : ''}`;
    switch (i.kind) {
      case 'FaultAbort': case 'FaultDelay': case 'TrafficSplit': case 'HeaderRoute': case 'Retry': case 'Timeout':
        out[key] = { route: routeOf(w, c, service!) };
        break;
      case 'ConnectionPool': case 'OutlierDetection':
        out[key] = { clusters: clustersOf(w, c, service!) };
        break;
      case 'MtlsMode': case 'Authorization': {
        out[key] = { inboundListeners: inbound(w, c, service ? [service] : undefined), clusters: service ? clustersOf(w, c, service) : undefined };
        break;
      }
    }
  }
  return out;
}
