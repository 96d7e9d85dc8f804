import type net from 'node:net';
import { MessageReader, type Message } from './http1.js';

/** What one attempt on an upstream connection came to, in Envoy's terms. */
export type AttemptResult =
  | { kind: 'response'; message: Message }
  | { kind: 'connect-failure' | 'reset' | 'per-try-timeout'; detail: string };

interface Connection {
  socket: net.Socket;
  reader: MessageReader;
  /** Set while a request is outstanding on it. */
  waiting?: (r: AttemptResult) => void;
  established: boolean;
  headRequest: boolean;
  error?: Error;
  idleTimer?: NodeJS.Timeout;
}

/** Idle connections are closed before a Node.js server would time them out (its default is 5 s; ours 60 s). */
const IDLE_CLOSE_MS = 20_000;

/**
 * Keep-alive HTTP/1.1 connections to one upstream address, one request at a time on each: the
 * most recently used idle connection is reused, a new one is opened while fewer than `max` are
 * open, and beyond that a request waits for one to come free. (The mesh's own connection-pool
 * limits are enforced above this, per cluster, as Envoy does.) A failure before the connection is
 * established is a connect failure; after it, a reset.
 */
export class HostConnections {
  private readonly idle: Connection[] = [];
  private readonly waiters: ((c: Connection) => void)[] = [];
  private open = 0;
  private closed = false;

  constructor(
    private readonly dial: () => net.Socket,
    /** The event that means established: 'connect' for TCP, 'secureConnect' for TLS. */
    private readonly establishedEvent: 'connect' | 'secureConnect',
    private readonly max = 64,
  ) {}

  /** Sends one serialized request and resolves with what came of it; never rejects. */
  async request(bytes: Buffer, o: { timeoutMs?: number; head?: boolean } = {}): Promise<AttemptResult> {
    const c = await this.take();
    if (!c) return { kind: 'reset', detail: 'upstream connections closed' };
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      c.headRequest = o.head === true;
      c.waiting = (r) => {
        if (timer) clearTimeout(timer);
        c.waiting = undefined;
        resolve(r);
      };
      if (o.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const w = c.waiting;
          c.socket.destroy();
          w?.({ kind: 'per-try-timeout', detail: `no response within ${o.timeoutMs}ms` });
        }, Math.max(1, o.timeoutMs));
      }
      c.socket.write(bytes);
    });
  }

  private take(): Promise<Connection | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const c = this.idle.pop();
    if (c) {
      if (c.idleTimer) clearTimeout(c.idleTimer);
      return Promise.resolve(c);
    }
    if (this.open < this.max) return Promise.resolve(this.connect());
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private connect(): Connection {
    const socket = this.dial();
    this.open++;
    const c: Connection = { socket, established: false, headRequest: false, reader: new MessageReader('response', (m) => this.onResponse(c, m)) };
    c.reader.noBodyExpected = () => c.headRequest;
    socket.once(this.establishedEvent, () => (c.established = true));
    socket.on('data', (d: Buffer) => {
      try {
        c.reader.push(d);
      } catch (err) {
        c.waiting?.({ kind: 'reset', detail: `malformed response: ${(err as Error).message}` });
        socket.destroy();
      }
    });
    socket.on('end', () => c.reader.end());
    socket.on('error', (err) => (c.error = err));
    socket.on('close', () => this.onClose(c));
    return c;
  }

  private onResponse(c: Connection, m: Message): void {
    if (m.status! < 200) return; // 1xx: informational, the final response follows
    const w = c.waiting;
    if (!w) return void c.socket.destroy(); // nothing asked for it
    if (m.close) c.socket.end();
    w({ kind: 'response', message: m });
    if (!m.close) this.release(c);
  }

  private release(c: Connection): void {
    const next = this.waiters.shift();
    if (next) return next(c);
    if (this.closed) return void c.socket.destroy();
    c.idleTimer = setTimeout(() => c.socket.end(), IDLE_CLOSE_MS);
    c.idleTimer.unref();
    this.idle.push(c);
  }

  private onClose(c: Connection): void {
    this.open--;
    if (c.idleTimer) clearTimeout(c.idleTimer);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    const why = c.error ? `${(c.error as NodeJS.ErrnoException).code ?? ''} ${c.error.message}`.trim() : 'closed by the upstream';
    c.waiting?.(c.established ? { kind: 'reset', detail: `connection reset before a complete response: ${why}` } : { kind: 'connect-failure', detail: `connection failure: ${why}` });
    // A waiter gets a fresh connection in place of the one that closed.
    const next = this.closed ? undefined : this.waiters.shift();
    if (next) next(this.connect());
  }

  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.socket.destroy();
  }
}
