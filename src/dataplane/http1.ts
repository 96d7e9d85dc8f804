import { STATUS_CODES } from 'node:http';

/**
 * HTTP/1.1 message framing for the reference sidecar's data path (RFC 9112): the request or status
 * line, header fields, and the body delimited by Content-Length, chunked transfer coding or, for a
 * response, the end of the connection. The sidecar frames messages on its sockets itself rather than
 * through node:http and undici because their per-request machinery cost more than twice the CPU
 * budget of a sidecar (docs/adr/0007-honest-verdicts-on-a-busy-machine.md, with the profile).
 * Bodies are buffered whole: every body on this path is small.
 */

/** Header fields in order, names lower-cased. */
export type Headers = [name: string, value: string][];

export interface Message {
  /** Requests: method and request target; responses: status. */
  method?: string;
  target?: string;
  status?: number;
  headers: Headers;
  body: Buffer;
  /** The sender asked to close the connection after this message (or spoke HTTP/1.0 without keep-alive). */
  close: boolean;
}

export class HttpParseError extends Error {}

const CRLF2 = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;
const EMPTY = Buffer.alloc(0);

type BodyState = { kind: 'length'; left: number } | { kind: 'chunked'; stage: 'size' | 'data' | 'data-crlf' | 'trailer'; left: number } | { kind: 'eof' };

/**
 * Reads a stream of messages of one kind (requests on a server socket, responses on a client
 * socket) from the chunks a socket delivers. `onMessage` is called once per complete message.
 */
export class MessageReader {
  private buf: Buffer = EMPTY;
  private current?: Message;
  private body?: BodyState;
  private parts: Buffer[] = [];
  /** Responses: whether the response to the oldest outstanding request can have no body (HEAD). */
  noBodyExpected?: () => boolean;

  constructor(private readonly kind: 'request' | 'response', private readonly onMessage: (m: Message) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (!this.current) {
        const end = this.buf.indexOf(CRLF2);
        if (end < 0) {
          if (this.buf.length > MAX_HEAD) throw new HttpParseError(`message head larger than ${MAX_HEAD} bytes`);
          return;
        }
        this.startMessage(this.buf.toString('latin1', 0, end));
        this.buf = this.buf.subarray(end + 4);
      }
      if (!this.readBody()) return;
    }
  }

  /** The connection ended: a response delimited by the end of the connection is complete. */
  end(): void {
    if (this.current && this.body?.kind === 'eof') {
      this.parts.push(this.buf);
      this.buf = EMPTY;
      this.finish();
    }
  }

  private startMessage(head: string): void {
    const lines = head.split('\r\n');
    const first = lines[0]!;
    const headers: Headers = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new HttpParseError(`malformed header line "${line.slice(0, 80)}"`);
      headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
    }
    const connection = headerValue(headers, 'connection')?.toLowerCase() ?? '';
    let http10: boolean;
    const m: Message = { headers, body: EMPTY, close: false };
    if (this.kind === 'request') {
      const sp1 = first.indexOf(' ');
      const sp2 = first.lastIndexOf(' ');
      if (sp1 <= 0 || sp2 <= sp1 || !first.startsWith('HTTP/1.', sp2 + 1)) throw new HttpParseError(`malformed request line "${first.slice(0, 80)}"`);
      m.method = first.slice(0, sp1);
      m.target = first.slice(sp1 + 1, sp2);
      http10 = first.endsWith('1.0');
    } else {
      if (!first.startsWith('HTTP/1.')) throw new HttpParseError(`malformed status line "${first.slice(0, 80)}"`);
      m.status = Number(first.slice(9, 12));
      if (!(m.status >= 100 && m.status < 600)) throw new HttpParseError(`malformed status line "${first.slice(0, 80)}"`);
      http10 = first.startsWith('HTTP/1.0');
    }
    m.close = connection.includes('close') || (http10 && !connection.includes('keep-alive'));
    const te = headerValue(headers, 'transfer-encoding');
    const cl = headerValue(headers, 'content-length');
    const noBody = this.kind === 'response' && (m.status! < 200 || m.status === 204 || m.status === 304 || this.noBodyExpected?.() === true);
    if (noBody) this.body = { kind: 'length', left: 0 };
    else if (te !== undefined && te.toLowerCase().includes('chunked')) this.body = { kind: 'chunked', stage: 'size', left: 0 };
    else if (cl !== undefined) {
      const n = Number(cl);
      if (!Number.isInteger(n) || n < 0) throw new HttpParseError(`invalid content-length "${cl}"`);
      this.body = { kind: 'length', left: n };
    } else this.body = this.kind === 'request' ? { kind: 'length', left: 0 } : { kind: 'eof' };
    this.current = m;
    this.parts = [];
  }

  /** Consumes body bytes; true when the message completed (and was delivered). */
  private readBody(): boolean {
    const b = this.body!;
    if (b.kind === 'eof') {
      this.parts.push(this.buf);
      this.buf = EMPTY;
      return false;
    }
    if (b.kind === 'length') {
      const take = Math.min(b.left, this.buf.length);
      if (take > 0) this.parts.push(this.buf.subarray(0, take));
      this.buf = this.buf.subarray(take);
      b.left -= take;
      if (b.left > 0) return false;
      return this.finish();
    }
    for (;;) {
      if (b.stage === 'size' || b.stage === 'trailer') {
        const eol = this.buf.indexOf('\r\n');
        if (eol < 0) return false;
        const line = this.buf.toString('latin1', 0, eol);
        this.buf = this.buf.subarray(eol + 2);
        if (b.stage === 'trailer') {
          if (line === '') return this.finish();
          continue;
        }
        const size = parseInt(line.split(';', 1)[0]!.trim(), 16);
        if (!Number.isFinite(size) || size < 0) throw new HttpParseError(`invalid chunk size "${line.slice(0, 20)}"`);
        if (size === 0) b.stage = 'trailer';
        else {
          b.stage = 'data';
          b.left = size;
        }
      } else if (b.stage === 'data') {
        const take = Math.min(b.left, this.buf.length);
        this.parts.push(this.buf.subarray(0, take));
        this.buf = this.buf.subarray(take);
        b.left -= take;
        if (b.left > 0) return false;
        b.stage = 'data-crlf';
      } else {
        if (this.buf.length < 2) return false;
        this.buf = this.buf.subarray(2);
        b.stage = 'size';
      }
    }
  }

  private finish(): boolean {
    const m = this.current!;
    m.body = this.parts.length === 0 ? EMPTY : this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.current = undefined;
    this.body = undefined;
    this.parts = [];
    this.onMessage(m);
    return true;
  }
}

export function headerValue(headers: Headers, name: string): string | undefined {
  for (const [k, v] of headers) if (k === name) return v;
  return undefined;
}

/** Hop-by-hop fields (RFC 9110 7.6.1) and the framing fields this code writes itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length']);

/** The end-to-end fields of a message: what a proxy forwards. */
export function endToEnd(headers: Headers, drop?: ReadonlySet<string>): Headers {
  return headers.filter(([k]) => !HOP_BY_HOP.has(k) && !drop?.has(k));
}

/** A request with a Content-Length body (always, even 0 for methods that carry one), as one buffer. */
export function serializeRequest(method: string, target: string, headers: Headers, body: Buffer): Buffer {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\r\n`;
  if (body.length > 0 || method === 'POST' || method === 'PUT' || method === 'PATCH') head += `content-length: ${body.length}\r\n`;
  head += '\r\n';
  return withBody(head, body);
}

/** A response with a Content-Length body, as one buffer; `close` adds "connection: close". */
export function serializeResponse(status: number, headers: Headers, body: Buffer | string, close = false): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\r\n`;
  head += `content-length: ${bytes.length}\r\n${close ? 'connection: close\r\n' : ''}\r\n`;
  return withBody(head, bytes);
}

function withBody(head: string, body: Buffer): Buffer {
  if (body.length === 0) return Buffer.from(head, 'latin1');
  const out = Buffer.allocUnsafe(Buffer.byteLength(head, 'latin1') + body.length);
  const n = out.write(head, 0, 'latin1');
  body.copy(out, n);
  return out;
}
