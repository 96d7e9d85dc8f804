import type net from 'node:net';
import { MessageReader, serializeResponse, type Headers, type Message } from './http1.js';

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer | string;
}

export type Handler = (req: Message) => Promise<Reply>;

const TEXT: Headers = [['content-type', 'text/plain']];

/**
 * Serves HTTP/1.1 requests arriving on one connection, one at a time and answered in order (so a
 * pipelining client gets its responses in the order it asked), keeping the connection open unless
 * the client asked to close it. A request that cannot be parsed gets 400 and the connection closes.
 */
export function serveConnection(socket: net.Socket, handle: Handler): void {
  const queue: Message[] = [];
  let busy = false;
  let ended = false;
  const pump = async () => {
    if (busy) return;
    busy = true;
    while (queue.length > 0) {
      const req = queue.shift()!;
      let reply: Reply;
      try {
        reply = await handle(req);
      } catch (err) {
        reply = { status: 500, headers: TEXT, body: `sidecar error: ${(err as Error).message}` };
      }
      if (socket.destroyed) return;
      socket.write(serializeResponse(reply.status, reply.headers, reply.body, req.close));
      if (req.close) return void socket.end();
    }
    busy = false;
    if (ended) socket.end();
  };
  const reader = new MessageReader('request', (m) => {
    queue.push(m);
    void pump();
  });
  socket.on('data', (d: Buffer) => {
    try {
      reader.push(d);
    } catch (err) {
      socket.end(serializeResponse(400, TEXT, `bad request: ${(err as Error).message}`, true));
    }
  });
  socket.on('end', () => {
    ended = true;
    if (!busy) socket.end();
  });
  socket.on('error', () => socket.destroy());
}
