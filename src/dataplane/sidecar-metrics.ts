import { Counter, Histogram, Registry, Gauge } from 'prom-client';
import { ISTIO_DURATION_BUCKETS_MS, type Endpoint, type SidecarBoot } from './config.js';
import { principalOf } from '../app/topology.js';

const LABELS = [
  'reporter', 'source_workload', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version',
  'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version',
  'destination_service', 'destination_service_name', 'destination_service_namespace',
  'request_protocol', 'response_code', 'response_flags', 'connection_security_policy',
] as const;
type Labels = Record<(typeof LABELS)[number], string>;

export interface Peer {
  service: string;
  version: string;
  identity?: string;
}

/** Istio-standard request metrics plus the Envoy counters the circuit-breaking checks read. */
export class SidecarMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'istio_requests_total', help: 'Requests handled, Istio standard metric', labelNames: LABELS, registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'istio_request_duration_milliseconds', help: 'Request duration in ms, Istio standard metric', labelNames: LABELS, buckets: ISTIO_DURATION_BUCKETS_MS, registers: [this.registry] });
  readonly pendingOverflow = new Counter({ name: 'envoy_cluster_upstream_rq_pending_overflow', help: 'Requests that overflowed the pending queue', labelNames: ['envoy_cluster_name'], registers: [this.registry] });
  readonly cxOverflow = new Counter({ name: 'envoy_cluster_upstream_cx_overflow', help: 'Times the max-connections breaker tripped', labelNames: ['envoy_cluster_name'], registers: [this.registry] });
  readonly ejectionsActive = new Gauge({ name: 'envoy_cluster_outlier_detection_ejections_active', help: 'Hosts ejected now', labelNames: ['envoy_cluster_name'], registers: [this.registry] });
  readonly ejectionsTotal = new Counter({ name: 'envoy_cluster_outlier_detection_ejections_enforced_total', help: 'Ejections enforced', labelNames: ['envoy_cluster_name'], registers: [this.registry] });
  readonly retries = new Counter({ name: 'envoy_cluster_upstream_rq_retry', help: 'Retried upstream requests', labelNames: ['envoy_cluster_name'], registers: [this.registry] });
  readonly configVersion = new Gauge({ name: 'meshcheck_sidecar_config_version', help: 'Config version in effect', registers: [this.registry] });

  constructor(private readonly boot: SidecarBoot) {}

  clusterName(service: string): string {
    return `outbound|80||${service}.${this.boot.namespace}.svc.cluster.local`;
  }

  /** Client-side report of one call (final response after retries). */
  source(dest: Endpoint | undefined, destService: string, code: number, flags: string, ms: number): void {
    const b = this.boot;
    this.observe({
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
    const b = this.boot;
    this.observe({
      reporter: 'destination', source_workload: peer ? `${peer.service}` : 'unknown', source_workload_namespace: b.namespace,
      source_principal: peer?.identity ? principalOf(peer.identity) : 'unknown', source_app: peer?.service ?? 'unknown', source_version: peer?.version ?? 'unknown',
      destination_workload: `${b.service}-${b.version}`, destination_workload_namespace: b.namespace, destination_principal: principalOf(b.identity),
      destination_app: b.service, destination_version: b.version, destination_service: `${b.service}.${b.namespace}.svc.cluster.local`,
      destination_service_name: b.service, destination_service_namespace: b.namespace, request_protocol: 'http',
      response_code: String(code), response_flags: flags || '-', connection_security_policy: mtls ? 'mutual_tls' : 'none',
    }, ms);
  }

  /** Label children are cached by their values: hashing 18 labels per request is the hot path's main cost. */
  private readonly children = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();

  private observe(labels: Labels, ms: number): void {
    const key = LABELS.map((l) => labels[l]).join('\u0000');
    let c = this.children.get(key);
    if (!c) {
      c = { count: this.requests.labels(labels), time: this.duration.labels(labels) };
      this.children.set(key, c);
    }
    c.count.inc();
    c.time.observe(ms);
  }
}
