import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import { Pool } from 'undici';
import type { InboundConfig, SidecarBoot } from './config.js';
import type { Peer, SidecarMetrics } from './sidecar-metrics.js';
import { principalOf } from '../app/topology.js';
import type { TlsMaterial } from './cluster.js';

const TLS_HANDSHAKE = 0x16;

/**
 * The server side of a sidecar: accepts mTLS and, under PERMISSIVE, plaintext (told apart by the
 * first byte, as Envoy's TLS inspector does); under STRICT a plaintext connection is reset.
 * Authorization is checked against the peer certificate's SPIFFE ID.
 */
export class Inbound {
  readonly server: net.Server;
  private readonly http: http.Server;
  private readonly app?: Pool;
  private readonly tlsServer: tls.Server;

  constructor(private readonly boot: SidecarBoot, material: TlsMaterial, private readonly metrics: SidecarMetrics, private readonly config: () => InboundConfig) {
    this.tlsServer = tls.createServer({ cert: material.cert, key: material.key, ca: material.ca, requestCert: true, rejectUnauthorized: true });
    this.tlsServer.on('secureConnection', (secure) => this.http.emit('connection', secure));
    this.tlsServer.on('tlsClientError', (_err, s) => s.destroy());
    this.app = boot.appPort ? new Pool(`http://127.0.0.1:${boot.appPort}`, { connections: 256, keepAliveTimeout: 30_000 }) : undefined;
    this.http = http.createServer({ keepAlive: true }, (req, res) => void this.handle(req, res));
    this.http.keepAliveTimeout = 30_000;
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        this.tlsServer.emit('connection', socket);
        process.nextTick(() => socket.resume());
      } else if (this.config().mtlsMode === 'STRICT') {
        // What a plaintext client of an Istio STRICT workload sees: the connection is reset.
        socket.resetAndDestroy();
      } else {
        this.http.emit('connection', socket);
        process.nextTick(() => socket.resume());
      }
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const start = performance.now();
    const sock = req.socket as tls.TLSSocket;
    const mtls = sock.encrypted === true;
    const identity = mtls ? this.peerOf(sock) : undefined;
    const [svc, ver] = String(req.headers['x-meshcheck-peer'] ?? '').split('/');
    const peer: Peer | undefined = identity ? { service: svc || 'unknown', version: ver || 'unknown', identity } : undefined;
    const reply = (status: number, flags: string, body: string | Buffer, headers: Record<string, string | string[]> = {}) => {
      this.metrics.destination(peer, mtls, status, flags, performance.now() - start);
      res.writeHead(status, headers);
      res.end(body);
    };
    const allow = this.config().allowPrincipals;
    if (allow && !(identity && allow.includes(principalOf(identity)))) {
      req.resume();
      return reply(403, '-', 'RBAC: access denied', { 'content-type': 'text/plain' });
    }
    if (!this.app) return reply(404, 'NR', 'no app behind this sidecar');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k !== 'connection' && k !== 'keep-alive') headers[k] = Array.isArray(v) ? v.join(', ') : v;
    if (identity) headers['x-forwarded-client-cert'] = `By=${this.boot.identity};URI=${identity}`;
    else delete headers['x-forwarded-client-cert'];
    try {
      const r = await this.app.request({ path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers, body: req });
      const body = Buffer.from(await r.body.arrayBuffer());
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
      reply(r.statusCode, '-', body, out);
    } catch (err) {
      reply(503, 'UF', `upstream connect error: ${(err as Error).message}`, { 'content-type': 'text/plain' });
    }
  }

  /** The peer's SPIFFE ID, read once per connection (getPeerCertificate builds a new object each call). */
  private readonly peers = new WeakMap<tls.TLSSocket, string | undefined>();
  private peerOf(sock: tls.TLSSocket): string | undefined {
    if (!this.peers.has(sock)) this.peers.set(sock, spiffeOf(sock.getPeerCertificate()));
    return this.peers.get(sock);
  }

  async close(): Promise<void> {
    this.server.close();
    this.http.closeAllConnections();
    await this.app?.close().catch(() => undefined);
  }
}

function spiffeOf(cert: tls.PeerCertificate | undefined): string | undefined {
  const uri = cert?.subjectaltname?.split(', ').find((s) => s.startsWith('URI:spiffe://'));
  return uri?.slice(4);
}
