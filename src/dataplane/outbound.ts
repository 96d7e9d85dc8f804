import { DEFAULT_RETRY, type RouteConfig, type SidecarBoot } from './config.js';
import type { Host, UpstreamCluster } from './cluster.js';
import type { SidecarMetrics } from './sidecar-metrics.js';
import type { AttemptResult } from './connections.js';
import { endToEnd, headerValue, serializeRequest, type Headers, type Message } from './http1.js';
import type { Reply } from './serve.js';

/** The part of the sidecar's state the outbound path reads; swapped whole on each config version. */
export interface OutboundState {
  routes: Record<string, RouteConfig>;
  clusters: Map<string, UpstreamCluster>;
}

const TEXT: Headers = [['content-type', 'text/plain']];
/** Fields this side writes itself on every upstream request. */
const REWRITTEN = new Set(['host', 'x-envoy-attempt-count', 'x-meshcheck-peer']);

/**
 * The client side of a sidecar: the app (or the load client) sends plain HTTP/1.1 naming the
 * destination in the Host header; routing, faults, retries, timeouts, the connection pool and
 * outlier detection apply here, in Envoy's order, and the request goes to the chosen host over mTLS.
 */
export class OutboundHandler {
  constructor(
    private readonly boot: SidecarBoot,
    private readonly metrics: SidecarMetrics,
    private readonly state: () => OutboundState,
  ) {}

  async handle(req: Message): Promise<Reply> {
    const start = performance.now();
    const dest = (headerValue(req.headers, 'host') ?? '').split(':')[0]!;
    const { routes, clusters } = this.state();
    const cluster = clusters.get(dest);
    const reply = (status: number, flags: string, body: string | Buffer, headers: Headers = TEXT, host?: Host): Reply => {
      this.metrics.source(host?.endpoint, dest, status, flags, performance.now() - start);
      return { status, headers: [...headers, ['x-meshcheck-response-flags', flags || '-']], body };
    };
    if (!cluster) return reply(404, 'NR', `no route to "${dest}"`);
    const route = routes[dest] ?? { headerRoutes: [] };
    const version = chooseVersion(route, req.headers);

    // Fault filter: delay, then abort, each drawn independently.
    let flags = '';
    if (route.faultDelay && Math.random() * 100 < route.faultDelay.percent) {
      await sleep(route.faultDelay.delayMs);
      flags = 'DI';
    }
    if (route.faultAbort && Math.random() * 100 < route.faultAbort.percent) {
      return reply(route.faultAbort.httpStatus, flags ? `${flags},FI` : 'FI', 'fault filter abort');
    }

    // Istio turns off a route's retries and timeout when the route carries a fault.
    const faulted = route.faultDelay !== undefined || route.faultAbort !== undefined;
    const retry: { attempts: number; perTryTimeoutMs?: number; retryOn: readonly string[] } = faulted ? { attempts: 0, retryOn: [] } : (route.retry ?? DEFAULT_RETRY);
    const deadline = !faulted && route.timeoutMs !== undefined ? Date.now() + route.timeoutMs : undefined;
    const tried = new Set<Host>();
    const clusterName = this.metrics.clusterName(dest);
    const forwarded = endToEnd(req.headers, REWRITTEN);
    for (let attempt = 1; ; attempt++) {
      const host = cluster.pick(version, tried);
      if (!host) return reply(503, withFlag(flags, 'UH'), 'no healthy upstream');
      tried.add(host);
      const release = await cluster.acquire();
      if (!release) return reply(503, withFlag(flags, 'UO'), 'upstream connect error or disconnect/reset before headers. reset reason: overflow', [...TEXT, ['x-envoy-overloaded', 'true']], host);
      const remaining = deadline === undefined ? undefined : deadline - Date.now();
      const perTry = minDefined(retry.perTryTimeoutMs, remaining);
      let result: AttemptResult;
      try {
        const headers: Headers = [['host', dest], ...forwarded, ['x-envoy-attempt-count', String(attempt)], ['x-meshcheck-peer', `${this.boot.service}/${this.boot.version}`]];
        result = await host.connections.request(serializeRequest(req.method!, req.target!, headers, req.body), { timeoutMs: perTry, head: req.method === 'HEAD' });
      } finally {
        release();
      }
      cluster.record(host, result.kind === 'response' ? result.message.status! : 503);
      if (deadline !== undefined && Date.now() >= deadline) {
        return reply(504, withFlag(flags, 'UT'), 'upstream request timeout', TEXT, host);
      }
      const canRetry = attempt <= retry.attempts && retriable(result, retry.retryOn);
      if (canRetry) {
        this.metrics.retries.inc({ envoy_cluster_name: clusterName });
        await sleep(Math.random() * 25 * 2 ** (attempt - 1));
        continue;
      }
      const exhausted = retry.attempts > 0 && attempt > retry.attempts && retriable(result, retry.retryOn);
      if (result.kind === 'response') {
        return reply(result.message.status!, exhausted ? withFlag(flags, 'URX') : flags, result.message.body, endToEnd(result.message.headers), host);
      }
      const flag = result.kind === 'connect-failure' ? 'UF' : result.kind === 'per-try-timeout' ? 'UT' : 'UR';
      const status = result.kind === 'per-try-timeout' ? 504 : 503;
      const text = result.kind === 'per-try-timeout' ? 'upstream request timeout' : `upstream connect error or disconnect/reset before headers. reset reason: ${result.kind === 'connect-failure' ? 'connection failure' : 'connection termination'}`;
      return reply(status, withFlag(flags, exhausted ? `${flag},URX` : flag), text, TEXT, host);
    }
  }
}

function chooseVersion(route: RouteConfig, headers: Headers): string | undefined {
  for (const m of route.headerRoutes) if (headerValue(headers, m.header) === m.value) return m.version;
  if (!route.weights) return undefined;
  const total = route.weights.reduce((a, w) => a + w.weight, 0);
  let r = Math.random() * total;
  for (const w of route.weights) {
    if (r < w.weight) return w.version;
    r -= w.weight;
  }
  return route.weights[route.weights.length - 1]?.version;
}

/** Envoy's retry-on conditions for HTTP/1.1 upstreams. */
export function retriable(a: AttemptResult, retryOn: readonly string[]): boolean {
  const status = a.kind === 'response' ? a.message.status : undefined;
  return retryOn.some((c) => {
    switch (c) {
      case '5xx': return status === undefined || status >= 500;
      case 'gateway-error': return status === undefined ? a.kind === 'per-try-timeout' : status >= 502 && status <= 504;
      case 'reset': return a.kind === 'reset' || a.kind === 'per-try-timeout' || a.kind === 'connect-failure';
      case 'connect-failure': return a.kind === 'connect-failure';
      case 'retriable-4xx': return status === 409;
      default: return /^\d{3}$/.test(c) && status === Number(c);
    }
  });
}

function withFlag(flags: string, f: string): string {
  return flags ? `${flags},${f}` : f;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
