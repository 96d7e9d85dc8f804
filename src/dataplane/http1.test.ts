import { HttpParseError, MessageReader, endToEnd, headerValue, serializeRequest, serializeResponse, type Message } from './http1.js';

function read(kind: 'request' | 'response', ...chunks: (string | Buffer)[]): Message[] {
  const out: Message[] = [];
  const r = new MessageReader(kind, (m) => out.push(m));
  for (const c of chunks) r.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  r.end();
  return out;
}

describe('HTTP/1.1 framing of the reference sidecar', () => {
  it('reads a request line, header fields (names lower-cased, values trimmed) and no body', () => {
    const [m] = read('request', 'GET /a?b=1 HTTP/1.1\r\nHost: reviews\r\nX-Probe:  1 \r\n\r\n');
    expect(m).toMatchObject({ method: 'GET', target: '/a?b=1', close: false });
    expect(m!.headers).toEqual([['host', 'reviews'], ['x-probe', '1']]);
    expect(m!.body.length).toBe(0);
  });

  it('reads pipelined requests split at any byte, with Content-Length bodies', () => {
    const wire = 'POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\nconnection: close\r\n\r\n';
    for (let cut = 1; cut < wire.length; cut++) {
      const ms = read('request', wire.slice(0, cut), wire.slice(cut));
      expect(ms.map((m) => [m.method, m.target, m.body.toString(), m.close])).toEqual([['POST', '/', 'hello', false], ['GET', '/2', '', true]]);
    }
  });

  it('decodes a chunked body with extensions and trailers', () => {
    const [m] = read('response', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: y\r\n\r\n');
    expect(m!.status).toBe(200);
    expect(m!.body.toString()).toBe('hello world');
  });

  it('reads a response delimited by the end of the connection, and none for 204 or HEAD', () => {
    expect(read('response', 'HTTP/1.0 200 OK\r\n\r\nall of it')[0]!.body.toString()).toBe('all of it');
    expect(read('response', 'HTTP/1.1 204 No Content\r\n\r\n')[0]!.body.length).toBe(0);
    const head: Message[] = [];
    const r = new MessageReader('response', (m) => head.push(m));
    r.noBodyExpected = () => true;
    r.push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n'));
    expect(head).toHaveLength(1);
  });

  it('treats HTTP/1.0 without keep-alive as closing', () => {
    expect(read('request', 'GET / HTTP/1.0\r\n\r\n')[0]!.close).toBe(true);
    expect(read('request', 'GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n')[0]!.close).toBe(false);
  });

  it.each([
    ['a request line without a version', 'GET /\r\n\r\n', /malformed request line/],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nnocolon\r\n\r\n', /malformed header line/],
    ['a bad content-length', 'GET / HTTP/1.1\r\ncontent-length: -1\r\n\r\n', /invalid content-length/],
  ])('rejects %s', (_what, wire, message) => {
    expect(() => read('request', wire)).toThrow(HttpParseError);
    expect(() => read('request', wire)).toThrow(message);
  });

  it('rejects a head that never ends within 64 KiB', () => {
    expect(() => read('request', `GET / HTTP/1.1\r\nx: ${'a'.repeat(70_000)}`)).toThrow(/larger than 65536 bytes/);
  });

  it('writes messages that read back the same (request with body, response with content-length)', () => {
    const req = serializeRequest('POST', '/x', [['host', 'reviews'], ['x-a', 'b']], Buffer.from('body!'));
    const [m] = read('request', req);
    expect(m).toMatchObject({ method: 'POST', target: '/x' });
    expect(headerValue(m!.headers, 'content-length')).toBe('5');
    expect(m!.body.toString()).toBe('body!');
    const res = serializeResponse(503, [['content-type', 'text/plain']], 'fault filter abort', true);
    expect(res.toString('latin1')).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    const [r] = read('response', res);
    expect(r).toMatchObject({ status: 503, close: true });
    expect(r!.body.toString()).toBe('fault filter abort');
  });

  it('forwards only end-to-end fields', () => {
    expect(endToEnd([['connection', 'keep-alive'], ['content-length', '3'], ['transfer-encoding', 'chunked'], ['x-a', '1'], ['host', 'h']], new Set(['host']))).toEqual([['x-a', '1']]);
  });
});
