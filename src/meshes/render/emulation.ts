import { stringify } from 'yaml';
import { obj, type K8sObject } from '../../kube/objects.js';
import { IMAGES, imageRef } from '../../kube/images.js';
import type { RenderContext } from '../types.js';
import type { Conflict, ServicePolicy } from './policy.js';

/*
 * Faults emulated by routing, for meshes without fault injection: a weighted route sends a share of
 * a service's traffic to an error backend (abort) or a delay backend (delay).
 */

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

/** How long a fault backend's pod must stay Ready before its Deployment counts it available. */
export const FAULT_BACKEND_MIN_READY_S = 5;

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
        // Available only after 5 s Ready: a pod whose containers crash at start (the mesh's sidecar has
        // no readiness probe on OSM) is Ready for a moment between restarts, and the "in effect" wait
        // (src/kube/status.ts) takes available replicas, not ready ones.
        minReadySeconds: FAULT_BACKEND_MIN_READY_S,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: app, annotations: podAnnotations },
          spec: {
            serviceAccountName: name,
            // Not named "envoy": OSM's injector adds its sidecar by that name, and a pod with two is invalid.
            // No hot restart: its socket is per network namespace, so a second Envoy in the pod (the mesh's
            // sidecar, on OSM and Consul) would fail to start on "unable to bind domain socket with base_id=0"
            // (measured on OSM 1.2.4 with Envoy 1.40).
            // No readiness probe: OSM turns a TCP probe into a call to its osm-healthcheck container
            // (an image the node does not have), and the abort backend answers every HTTP path with the
            // fault's status. Envoy binds its static listener as it starts; minReadySeconds covers crashes.
            containers: [{ name: 'fault-backend', image: ctx.envoyImage ?? imageRef(IMAGES.envoy, ctx.imageMirror), args: ['-c', '/etc/envoy/envoy.yaml', '--disable-hot-restart'], ports: [{ name: 'http', containerPort: ctx.port }], volumeMounts: [{ name: 'config', mountPath: '/etc/envoy' }] }],
            volumes: [{ name: 'config', configMap: { name } }],
          },
        },
      },
    }),
    obj(ctx, 'v1', 'ServiceAccount', name, {}),
    obj(ctx, 'v1', 'Service', name, { spec: { selector: { app: name }, ports: [{ name: 'http', port: ctx.port, targetPort: ctx.port }] } }),
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
