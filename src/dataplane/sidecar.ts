import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import type { SidecarBoot, SidecarConfig, RouteConfig } from './config.js';
import { SidecarMetrics } from './sidecar-metrics.js';
import { UpstreamCluster, type TlsMaterial } from './cluster.js';
import { OutboundHandler, type OutboundState } from './outbound.js';
import { Inbound } from './inbound.js';
import { serveConnection } from './serve.js';

/**
 * The reference sidecar: an outbound listener the local app (or load client) sends plain HTTP to,
 * naming the destination in the Host header; an inbound listener for peers (mTLS); and an admin
 * listener for config pushes, metrics and self-reported resource use. The two data-path listeners
 * frame HTTP/1.1 on their sockets themselves (http1.ts); the admin listener is node:http.
 */
export class Sidecar {
  private readonly metrics: SidecarMetrics;
  private readonly tls: TlsMaterial;
  private config: SidecarConfig = { version: 0, endpoints: {}, outbound: {}, inbound: { mtlsMode: 'PERMISSIVE' } };
  private outState: OutboundState = { routes: {}, clusters: new Map() };
  private readonly inbound: Inbound;
  private readonly outbound: net.Server;
  private readonly admin: http.Server;

  constructor(private readonly boot: SidecarBoot) {
    this.metrics = new SidecarMetrics(boot);
    this.tls = { cert: readFileSync(boot.certFile, 'utf8'), key: readFileSync(boot.keyFile, 'utf8'), ca: readFileSync(boot.caFile, 'utf8') };
    this.inbound = new Inbound(boot, this.tls, this.metrics, () => this.config.inbound);
    const handler = new OutboundHandler(boot, this.metrics, () => this.outState);
    this.outbound = net.createServer({ noDelay: true }, (socket) => serveConnection(socket, (req) => handler.handle(req)));
    this.admin = http.createServer((req, res) => void this.handleAdmin(req, res));
  }

  async start(): Promise<{ inboundPort: number; outboundPort: number; adminPort: number }> {
    const listen = (s: net.Server, port: number) =>
      new Promise<number>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port));
      });
    return {
      inboundPort: await listen(this.inbound.server, this.boot.inboundPort),
      outboundPort: await listen(this.outbound, this.boot.outboundPort),
      adminPort: await listen(this.admin, this.boot.adminPort),
    };
  }

  /** Applies a config version; clusters whose endpoints and limits did not change keep their state. */
  apply(next: SidecarConfig): void {
    const clusters = new Map<string, UpstreamCluster>();
    const stale: UpstreamCluster[] = [];
    for (const [service, endpoints] of Object.entries(next.endpoints)) {
      const route: RouteConfig = next.outbound[service] ?? { headerRoutes: [] };
      const key = JSON.stringify([endpoints, route.pool, route.outlier]);
      const old = this.outState.clusters.get(service);
      if (old && clusterKeys.get(old) === key) clusters.set(service, old);
      else {
        const c = new UpstreamCluster(service, { pool: route.pool, outlier: route.outlier }, endpoints, this.tls, this.metrics);
        clusterKeys.set(c, key);
        clusters.set(service, c);
        if (old) stale.push(old);
      }
    }
    for (const [service, c] of this.outState.clusters) if (!clusters.has(service)) stale.push(c);
    this.config = next;
    this.outState = { routes: next.outbound, clusters };
    this.metrics.configVersion.set(next.version);
    // Old pools drain in the background; requests in flight on them finish.
    setTimeout(() => stale.forEach((c) => void c.close()), 1000).unref();
  }

  private async handleAdmin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method === 'POST' && req.url === '/config') {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const cfg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SidecarConfig;
        this.apply(cfg);
        return json(200, { ack: cfg.version });
      }
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        res.end(await this.metrics.registry.metrics());
        return;
      }
      if (req.url === '/stats') {
        const cpu = process.cpuUsage();
        const mem = process.memoryUsage();
        return json(200, { pid: process.pid, cpuSeconds: (cpu.user + cpu.system) / 1e6, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, configVersion: this.config.version });
      }
      if (req.url === '/clusters') {
        return json(200, Object.fromEntries([...this.outState.clusters].map(([k, c]) => [k, c.state()])));
      }
      if (req.url === '/ready') return json(200, { version: this.config.version });
      json(404, { error: `no admin endpoint ${req.url}` });
    } catch (err) {
      json(400, { error: (err as Error).message });
    }
  }
}

const clusterKeys = new WeakMap<UpstreamCluster, string>();
