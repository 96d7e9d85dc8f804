import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';
import { ISTIO_DURATION_BUCKETS_MS, type Endpoint, type SidecarBoot } from './config.js';
import { principalOf } from '../app/topology.js';

/** Istio's standard request labels, as the reference sidecar reports them. */
type Label =
  | 'reporter' | 'source_workload' | 'source_workload_namespace' | 'source_principal' | 'source_app' | 'source_version'
  | 'destination_workload' | 'destination_workload_namespace' | 'destination_principal' | 'destination_app' | 'destination_version'
  | 'destination_service' | 'destination_service_name' | 'destination_service_namespace'
  | 'request_protocol' | 'response_code' | 'response_flags' | 'connection_security_policy';
type Labels = Record<Label, string>;

// prom-client's entry point also loads its default process metrics, the push gateway and cluster
// support: 8 MB of a sidecar's resident memory (budget 70 MB). The sidecar takes only the three
// classes it uses, from the pinned version's own files.
const load = createRequire(import.meta.url);
const Registry = load('prom-client/lib/registry') as typeof Prom.Registry;
const Counter = load('prom-client/lib/counter') as typeof Prom.Counter;
const Gauge = load('prom-client/lib/gauge') as typeof Prom.Gauge;
type Registry = Prom.Registry;

export interface Peer {
  service: string;
  version: string;
  identity?: string;
}

/** Requests of one label set: a count, a sum and per-bucket counts (not cumulative). */
interface Tally {
  labels: Labels;
  count: number;
  sumMs: number;
  buckets: Float64Array;
}

/**
 * Istio-standard request metrics plus the Envoy counters the circuit-breaking checks read. The
 * per-request metrics are tallied in plain counters on the hot path and handed to prom-client only
 * when Prometheus scrapes: prom-client validates and hashes every label set on every observation,
 * which cost a tenth of the sidecar's CPU.
 */
export class SidecarMetrics {
  readonly registry = new Registry();
  private readonly tallies = new Map<string, Tally>();
  readonly pendingOverflow = new Counter({ name: 'envoy_cluster_upstream_rq_pending_overflow', help: 'Requests that overflowed the pending queue', labelNames: ['envoy_cluster_name'], registers: [this.registry] });
  readonly cxOverflow = new Counter({ name: 'envoy_cluster_upstream_cx_overflow', help: 'Times the max-connections breaker tripped', labelNames: ['envoy_cluster_name'], registers: [this.registry] });
  readonly ejectionsActive = new Gauge({ name: 'envoy_cluster_outlier_detection_ejections_active', help: 'Hosts ejected now', labelNames: ['envoy_cluster_name'], registers: [this.registry] });
  readonly ejectionsTotal = new Counter({ name: 'envoy_cluster_outlier_detection_ejections_enforced_total', help: 'Ejections enforced', labelNames: ['envoy_cluster_name'], registers: [this.registry] });
  readonly retries = new Counter({ name: 'envoy_cluster_upstream_rq_retry', help: 'Retried upstream requests', labelNames: ['envoy_cluster_name'], registers: [this.registry] });
  readonly configVersion = new Gauge({ name: 'meshcheck_sidecar_config_version', help: 'Config version in effect', registers: [this.registry] });

  constructor(private readonly boot: SidecarBoot) {
    const tallies = () => [...this.tallies.values()];
    this.registry.registerMetric(scraped('istio_requests_total', 'Requests handled, Istio standard metric', 'counter', () => tallies().map((t) => ({ labels: t.labels, value: t.count }))));
    this.registry.registerMetric(scraped('istio_request_duration_milliseconds', 'Request duration in ms, Istio standard metric', 'histogram', () => tallies().flatMap(histogramValues)));
  }

  clusterName(service: string): string {
    return `outbound|80||${service}.${this.boot.namespace}.svc.cluster.local`;
  }

  /** Client-side report of one call (final response after retries). */
  source(dest: Endpoint | undefined, destService: string, code: number, flags: string, ms: number): void {
    const key = `s\u0000${dest?.instance ?? ''}\u0000${destService}\u0000${code}\u0000${flags}`;
    const t = this.tallies.get(key);
    if (t) return observe(t, ms);
    const b = this.boot;
    this.start(key, {
      reporter: 'source', source_workload: `${b.service}-${b.version}`, source_workload_namespace: b.namespace,
      source_principal: principalOf(b.identity), source_app: b.service, source_version: b.version,
      destination_workload: dest ? `${dest.service}-${dest.version}` : 'unknown', destination_workload_namespace: b.namespace,
      destination_principal: dest ? principalOf(dest.identity) : 'unknown', destination_app: dest?.service ?? 'unknown',
      destination_version: dest?.version ?? 'unknown', destination_service: `${destService}.${b.namespace}.svc.cluster.local`,
      destination_service_name: destService, destination_service_namespace: b.namespace, request_protocol: 'http',
      response_code: String(code), response_flags: flags || '-', connection_security_policy: 'unknown',
    }, ms);
  }

  /** Server-side report of one inbound call. */
  destination(peer: Peer | undefined, mtls: boolean, code: number, flags: string, ms: number): void {
    const key = `d\u0000${peer?.service ?? ''}\u0000${peer?.version ?? ''}\u0000${peer?.identity ?? ''}\u0000${mtls}\u0000${code}\u0000${flags}`;
    const t = this.tallies.get(key);
    if (t) return observe(t, ms);
    const b = this.boot;
    this.start(key, {
      reporter: 'destination', source_workload: peer ? `${peer.service}` : 'unknown', source_workload_namespace: b.namespace,
      source_principal: peer?.identity ? principalOf(peer.identity) : 'unknown', source_app: peer?.service ?? 'unknown', source_version: peer?.version ?? 'unknown',
      destination_workload: `${b.service}-${b.version}`, destination_workload_namespace: b.namespace, destination_principal: principalOf(b.identity),
      destination_app: b.service, destination_version: b.version, destination_service: `${b.service}.${b.namespace}.svc.cluster.local`,
      destination_service_name: b.service, destination_service_namespace: b.namespace, request_protocol: 'http',
      response_code: String(code), response_flags: flags || '-', connection_security_policy: mtls ? 'mutual_tls' : 'none',
    }, ms);
  }

  private start(key: string, labels: Labels, ms: number): void {
    const t: Tally = { labels, count: 0, sumMs: 0, buckets: new Float64Array(ISTIO_DURATION_BUCKETS_MS.length + 1) };
    this.tallies.set(key, t);
    observe(t, ms);
  }
}

function observe(t: Tally, ms: number): void {
  t.count++;
  t.sumMs += ms;
  let i = 0;
  while (i < ISTIO_DURATION_BUCKETS_MS.length && ms > ISTIO_DURATION_BUCKETS_MS[i]!) i++;
  t.buckets[i]!++;
}

/** The exposition of one tally as prom-client renders a histogram: cumulative buckets, +Inf, sum, count. */
function histogramValues(t: Tally): { labels: Record<string, string | number>; value: number; metricName: string }[] {
  const name = 'istio_request_duration_milliseconds';
  const out: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
  let cumulative = 0;
  ISTIO_DURATION_BUCKETS_MS.forEach((le, i) => {
    cumulative += t.buckets[i]!;
    out.push({ labels: { ...t.labels, le }, value: cumulative, metricName: `${name}_bucket` });
  });
  out.push({ labels: { ...t.labels, le: '+Inf' }, value: t.count, metricName: `${name}_bucket` });
  out.push({ labels: t.labels, value: t.sumMs, metricName: `${name}_sum` }, { labels: t.labels, value: t.count, metricName: `${name}_count` });
  return out;
}

/** A metric prom-client's registry renders from values read at scrape time. */
function scraped(name: string, help: string, type: 'counter' | 'histogram', values: () => unknown[]): Parameters<Registry['registerMetric']>[0] {
  return { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, values: values(), aggregator: 'sum' }) } as unknown as Parameters<Registry['registerMetric']>[0];
}
