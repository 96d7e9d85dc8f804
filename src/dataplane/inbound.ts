import net from 'node:net';
import tls from 'node:tls';
import type { InboundConfig, SidecarBoot } from './config.js';
import type { Peer, SidecarMetrics } from './sidecar-metrics.js';
import { principalOf } from '../app/topology.js';
import type { TlsMaterial } from './cluster.js';
import { HostConnections } from './connections.js';
import { endToEnd, headerValue, serializeRequest, type Headers, type Message } from './http1.js';
import { serveConnection, type Reply } from './serve.js';

const TLS_HANDSHAKE = 0x16;
const TEXT: Headers = [['content-type', 'text/plain']];
/** Never forwarded from a peer: the sidecar writes the client certificate it verified itself. */
const FROM_PEER_DROPPED = new Set(['x-forwarded-client-cert']);

/**
 * The server side of a sidecar: accepts mTLS and, under PERMISSIVE, plaintext (told apart by the
 * first byte, as Envoy's TLS inspector does); under STRICT a plaintext connection is reset.
 * Authorization is checked against the peer certificate's SPIFFE ID, read once per connection.
 */
export class Inbound {
  readonly server: net.Server;
  private readonly app?: HostConnections;
  private readonly tlsServer: tls.Server;

  constructor(private readonly boot: SidecarBoot, material: TlsMaterial, private readonly metrics: SidecarMetrics, private readonly config: () => InboundConfig) {
    this.tlsServer = tls.createServer({ cert: material.cert, key: material.key, ca: material.ca, requestCert: true, rejectUnauthorized: true });
    this.tlsServer.on('secureConnection', (secure: tls.TLSSocket) => {
      const identity = spiffeOf(secure.getPeerCertificate());
      serveConnection(secure, (req) => this.handle(req, true, identity));
    });
    this.tlsServer.on('tlsClientError', (_err, s) => s.destroy());
    const appPort = boot.appPort;
    this.app = appPort ? new HostConnections(() => net.connect({ host: '127.0.0.1', port: appPort, noDelay: true }), 'connect') : undefined;
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
        serveConnection(socket, (req) => this.handle(req, false, undefined));
        process.nextTick(() => socket.resume());
      }
    });
  }

  private async handle(req: Message, mtls: boolean, identity: string | undefined): Promise<Reply> {
    const start = performance.now();
    const [svc, ver] = (headerValue(req.headers, 'x-meshcheck-peer') ?? '').split('/');
    const peer: Peer | undefined = identity ? { service: svc || 'unknown', version: ver || 'unknown', identity } : undefined;
    const reply = (status: number, flags: string, body: string | Buffer, headers: Headers = TEXT): Reply => {
      this.metrics.destination(peer, mtls, status, flags, performance.now() - start);
      return { status, headers, body };
    };
    const allow = this.config().allowPrincipals;
    if (allow && !(identity && allow.includes(principalOf(identity)))) return reply(403, '-', 'RBAC: access denied');
    if (!this.app) return reply(404, 'NR', 'no app behind this sidecar');
    const headers = endToEnd(req.headers, FROM_PEER_DROPPED);
    if (identity) headers.push(['x-forwarded-client-cert', `By=${this.boot.identity};URI=${identity}`]);
    const r = await this.app.request(serializeRequest(req.method!, req.target!, headers, req.body), { head: req.method === 'HEAD' });
    if (r.kind !== 'response') return reply(503, 'UF', `upstream connect error: ${r.detail}`);
    return reply(r.message.status!, '-', r.message.body, endToEnd(r.message.headers));
  }

  async close(): Promise<void> {
    this.server.close();
    this.app?.close();
  }
}

function spiffeOf(cert: tls.PeerCertificate | undefined): string | undefined {
  const uri = cert?.subjectaltname?.split(', ').find((s) => s.startsWith('URI:spiffe://'));
  return uri?.slice(4);
}
