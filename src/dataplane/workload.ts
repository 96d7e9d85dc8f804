import http from 'node:http';
import net from 'node:net';
import type { WorkloadBehaviour, WorkloadBoot } from './config.js';

/**
 * An echo workload: every reply says which service, version and instance answered and which caller
 * identity its sidecar saw. It can be told to fail or to be slow on /__meshcheck/behaviour.
 */
export class EchoWorkload {
  private behaviour: WorkloadBehaviour = {};
  /** Requests answered with the fail status since the behaviour was last set (efficacy evidence). */
  private failed = 0;
  private readonly server: http.Server;
  private readonly upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(private readonly boot: WorkloadBoot) {
    this.server = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  start(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.boot.port, '127.0.0.1', () => resolve({ port: (this.server.address() as net.AddressInfo).port }));
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.url === '/__meshcheck/wire' && req.method === 'POST') {
      // The sidecar starts after its app, so the app learns its sidecar's outbound port here.
      this.boot.outboundPort = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { outboundPort: number }).outboundPort;
      res.writeHead(204);
      return void res.end();
    }
    if (req.url === '/__meshcheck/behaviour') {
      if (req.method === 'POST') {
        this.behaviour = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as WorkloadBehaviour;
        this.failed = 0;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ ...this.behaviour, failed: this.failed }));
    }
    const { failStatus, delayMs } = this.behaviour;
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const xfcc = String(req.headers['x-forwarded-client-cert'] ?? '');
    const caller = /URI=([^;,]+)/.exec(xfcc)?.[1] ?? null;
    let upstream: unknown;
    if (req.url?.startsWith('/chain') && this.boot.upstream && this.boot.outboundPort) upstream = await this.callUpstream(req.url);
    const status = failStatus ?? 200;
    if (failStatus !== undefined) this.failed++;
    const body = JSON.stringify({ service: this.boot.service, version: this.boot.version, instance: this.boot.instance, caller, path: req.url, upstream });
    res.writeHead(status, { 'content-type': 'application/json', 'x-meshcheck-version': this.boot.version, 'x-meshcheck-instance': this.boot.instance });
    res.end(body);
  }

  private callUpstream(path: string): Promise<unknown> {
    return new Promise((resolve) => {
      const r = http.request({ host: '127.0.0.1', port: this.boot.outboundPort, path, headers: { host: this.boot.upstream }, agent: this.upstreamAgent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode, ...JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode, body: text });
          }
        });
      });
      r.on('error', (e) => resolve({ error: e.message }));
      r.end();
    });
  }
}
