import tls from 'node:tls';
import type { Endpoint, RouteConfig } from './config.js';
import { HostConnections } from './connections.js';
import type { SidecarMetrics } from './sidecar-metrics.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  ca: string;
}

interface Host {
  endpoint: Endpoint;
  connections: HostConnections;
  consecutive5xx: number;
  timesEjected: number;
  /** When set, the host is out of rotation until the first sweep after this time. */
  ejectedUntil?: number;
}

const MAX_EJECTION_MS = 300_000;

/**
 * One destination service as seen by one calling sidecar: its hosts, the connection pool limits
 * and the outlier-detection state. Limits are per calling sidecar, as in Envoy.
 */
export class UpstreamCluster {
  private readonly hosts: Host[];
  private active = 0;
  private readonly pending: (() => void)[] = [];
  private rr = 0;
  private sweep?: NodeJS.Timeout;

  constructor(
    readonly service: string,
    readonly policy: Pick<RouteConfig, 'pool' | 'outlier'>,
    endpoints: Endpoint[],
    material: TlsMaterial,
    private readonly metrics: SidecarMetrics,
  ) {
    // One TLS context for every connection of the cluster: building it per connection costs more than the handshake.
    const secureContext = tls.createSecureContext({ cert: material.cert, key: material.key, ca: material.ca });
    this.hosts = endpoints.map((endpoint) => {
      const [host, port] = splitAddress(endpoint.address);
      const dial = () => {
        const socket = tls.connect({
          host, port, secureContext, rejectUnauthorized: true,
          // Verify the peer by its SPIFFE ID, as Istio's sidecars do, not by host name.
          checkServerIdentity: (_host, cert) => (cert.subjectaltname?.split(', ').includes(`URI:${endpoint.identity}`) ? undefined : new Error(`peer is not ${endpoint.identity}`)),
        });
        socket.setNoDelay(true);
        return socket;
      };
      return { endpoint, consecutive5xx: 0, timesEjected: 0, connections: new HostConnections(dial, 'secureConnect') };
    });
    if (policy.outlier) {
      this.sweep = setInterval(() => this.unejectDue(), policy.outlier.intervalMs);
      this.sweep.unref();
    }
  }

  /** Picks a healthy host of the version (if any), avoiding hosts already tried when possible. */
  pick(version: string | undefined, tried: Set<Host>): Host | undefined {
    const healthy = this.hosts.filter((h) => h.ejectedUntil === undefined && (version === undefined || h.endpoint.version === version));
    if (healthy.length === 0) return undefined;
    const fresh = healthy.filter((h) => !tried.has(h));
    const from = fresh.length > 0 ? fresh : healthy;
    this.rr = (this.rr + 1) % 1_000_000;
    return from[this.rr % from.length];
  }

  /**
   * Takes a slot in the connection pool: resolves to a release function, or to undefined when the
   * pending queue is full (the caller answers 503 UO).
   */
  acquire(): Promise<(() => void) | undefined> {
    const limit = this.limit();
    if (this.active < limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    const maxPending = this.policy.pool?.maxPendingRequests ?? Infinity;
    if (this.pending.length >= maxPending) {
      this.metrics.pendingOverflow.inc({ envoy_cluster_name: this.metrics.clusterName(this.service) });
      this.metrics.cxOverflow.inc({ envoy_cluster_name: this.metrics.clusterName(this.service) });
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => this.pending.push(() => resolve(this.releaser())));
  }

  private limit(): number {
    const p = this.policy.pool;
    if (!p) return Infinity;
    return Math.min(p.maxConnections, p.maxRequests ?? Infinity);
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.pending.shift();
      if (next) next();
      else this.active--;
    };
  }

  /** Records an upstream result for outlier detection; connect failures count as 5xx. */
  record(host: Host, status: number): void {
    const od = this.policy.outlier;
    if (!od) return;
    if (status < 500) {
      host.consecutive5xx = 0;
      return;
    }
    host.consecutive5xx++;
    if (host.consecutive5xx < od.consecutive5xx || host.ejectedUntil !== undefined) return;
    const ejected = this.hosts.filter((h) => h.ejectedUntil !== undefined).length;
    // As current Envoy: the cap counts the host about to go, on the first ejection too. No cap stated:
    // the smallest one that lets one host go.
    const cap = od.maxEjectionPercent ?? Math.ceil(100 / this.hosts.length);
    if (((ejected + 1) * 100) / this.hosts.length > cap) return;
    host.timesEjected++;
    host.consecutive5xx = 0;
    host.ejectedUntil = Date.now() + Math.min(od.baseEjectionMs * host.timesEjected, Math.max(MAX_EJECTION_MS, od.baseEjectionMs));
    const name = this.metrics.clusterName(this.service);
    this.metrics.ejectionsTotal.inc({ envoy_cluster_name: name });
    this.metrics.ejectionsActive.set({ envoy_cluster_name: name }, ejected + 1);
  }

  private unejectDue(): void {
    const now = Date.now();
    for (const h of this.hosts) if (h.ejectedUntil !== undefined && h.ejectedUntil <= now) h.ejectedUntil = undefined;
    const ejected = this.hosts.filter((h) => h.ejectedUntil !== undefined).length;
    this.metrics.ejectionsActive.set({ envoy_cluster_name: this.metrics.clusterName(this.service) }, ejected);
  }

  state(): { address: string; version: string; ejected: boolean; consecutive5xx: number }[] {
    return this.hosts.map((h) => ({ address: h.endpoint.address, version: h.endpoint.version, ejected: h.ejectedUntil !== undefined, consecutive5xx: h.consecutive5xx }));
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    for (const h of this.hosts) h.connections.close();
  }
}

export type { Host };

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}
