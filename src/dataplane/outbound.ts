import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_RETRY, type RouteConfig, type SidecarBoot } from './config.js';
import type { Host, UpstreamCluster } from './cluster.js';
import type { SidecarMetrics } from './sidecar-metrics.js';

/** The part of the sidecar's state the outbound path reads; swapped whole on each config version. */
export interface OutboundState {
  routes: Record<string, RouteConfig>;
  clusters: Map<string, UpstreamCluster>;
}

type Attempt =
  | { kind: 'response'; status: number; headers: Record<string, string | string[]>; body: Buffer }
  | { kind: 'connect-failure' | 'reset' | 'per-try-timeout'; detail: string };

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

export class OutboundHandler {
  constructor(
    private readonly boot: SidecarBoot,
    private readonly metrics: SidecarMetrics,
    private readonly state: () => OutboundState,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = performance.now();
    const dest = (req.headers.host ?? '').split(':')[0]!;
    const { routes, clusters } = this.state();
    const cluster = clusters.get(dest);
    const reply = (status: number, flags: string, body: string | Buffer, headers: Record<string, string | string[]> = {}, host?: Host) => {
      this.metrics.source(host?.endpoint, dest, status, flags, performance.now() - start);
      res.writeHead(status, { ...headers, 'x-meshcheck-response-flags': flags || '-' });
      res.end(body);
    };
    if (!cluster) return reply(404, 'NR', `no route to "${dest}"`);
    const route = routes[dest] ?? { headerRoutes: [] };
    const version = chooseVersion(route, req.headers);
    const body = await readBody(req);

    // Fault filter: delay, then abort, each drawn independently.
    let flags = '';
    if (route.faultDelay && Math.random() * 100 < route.faultDelay.percent) {
      await sleep(route.faultDelay.delayMs);
      flags = 'DI';
    }
    if (route.faultAbort && Math.random() * 100 < route.faultAbort.percent) {
      return reply(route.faultAbort.httpStatus, flags ? `${flags},FI` : 'FI', 'fault filter abort', { 'content-type': 'text/plain' });
    }

    // Istio turns off a route's retries and timeout when the route carries a fault.
    const faulted = route.faultDelay !== undefined || route.faultAbort !== undefined;
    const retry: { attempts: number; perTryTimeoutMs?: number; retryOn: readonly string[] } = faulted ? { attempts: 0, retryOn: [] } : (route.retry ?? DEFAULT_RETRY);
    const deadline = !faulted && route.timeoutMs !== undefined ? Date.now() + route.timeoutMs : undefined;
    const tried = new Set<Host>();
    const clusterName = this.metrics.clusterName(dest);
    for (let attempt = 1; ; attempt++) {
      const host = cluster.pick(version, tried);
      if (!host) return reply(503, withFlag(flags, 'UH'), 'no healthy upstream', { 'content-type': 'text/plain' });
      tried.add(host);
      const release = await cluster.acquire();
      if (!release) return reply(503, withFlag(flags, 'UO'), 'upstream connect error or disconnect/reset before headers. reset reason: overflow', { 'x-envoy-overloaded': 'true', 'content-type': 'text/plain' }, host);
      const remaining = deadline === undefined ? undefined : deadline - Date.now();
      const perTry = minDefined(retry.perTryTimeoutMs, remaining);
      let result: Attempt;
      try {
        result = await this.send(host, req, body, dest, attempt, perTry);
      } finally {
        release();
      }
      cluster.record(host, result.kind === 'response' ? result.status : 503);
      if (deadline !== undefined && Date.now() >= deadline) {
        return reply(504, withFlag(flags, 'UT'), 'upstream request timeout', { 'content-type': 'text/plain' }, host);
      }
      const canRetry = attempt <= retry.attempts && retriable(result, retry.retryOn);
      if (canRetry) {
        this.metrics.retries.inc({ envoy_cluster_name: clusterName });
        await sleep(Math.random() * 25 * 2 ** (attempt - 1));
        continue;
      }
      const exhausted = retry.attempts > 0 && attempt > retry.attempts && retriable(result, retry.retryOn);
      if (result.kind === 'response') {
        return reply(result.status, exhausted ? withFlag(flags, 'URX') : flags, result.body, result.headers, host);
      }
      const flag = result.kind === 'connect-failure' ? 'UF' : result.kind === 'per-try-timeout' ? 'UT' : 'UR';
      const status = result.kind === 'per-try-timeout' ? 504 : 503;
      const text = result.kind === 'per-try-timeout' ? 'upstream request timeout' : `upstream connect error or disconnect/reset before headers. reset reason: ${result.kind === 'connect-failure' ? 'connection failure' : 'connection termination'}`;
      return reply(status, withFlag(flags, exhausted ? `${flag},URX` : flag), text, { 'content-type': 'text/plain' }, host);
    }
  }

  private async send(host: Host, req: IncomingMessage, body: Buffer, dest: string, attempt: number, timeoutMs: number | undefined): Promise<Attempt> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    headers['host'] = dest;
    headers['x-envoy-attempt-count'] = String(attempt);
    headers['x-meshcheck-peer'] = `${this.boot.service}/${this.boot.version}`;
    const signal = timeoutMs !== undefined ? AbortSignal.timeout(Math.max(1, timeoutMs)) : undefined;
    try {
      const r = await host.pool.request({ path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers, body: body.length ? body : undefined, signal });
      const buf = Buffer.from(await r.body.arrayBuffer());
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
      return { kind: 'response', status: r.statusCode, headers: out, body: buf };
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { name?: string };
      if (signal?.aborted) return { kind: 'per-try-timeout', detail: 'per-try timeout' };
      const code = e.code ?? '';
      const connect = code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code.startsWith('ERR_TLS') || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /certificate|peer is not/.test(e.message);
      return { kind: connect ? 'connect-failure' : 'reset', detail: `${code} ${e.message}` };
    }
  }
}

function chooseVersion(route: RouteConfig, headers: IncomingMessage['headers']): string | undefined {
  for (const m of route.headerRoutes) if (headers[m.header] === m.value) return m.version;
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
export function retriable(a: Attempt, retryOn: readonly string[]): boolean {
  const status = a.kind === 'response' ? a.status : undefined;
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

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length ? Buffer.concat(chunks) : EMPTY));
    req.on('error', reject);
  });
}
const EMPTY = Buffer.alloc(0);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
