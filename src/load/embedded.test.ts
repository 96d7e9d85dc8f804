/** The embedded engine against a loopback server that notes which client connection each request came on. */
import { createServer, type Server } from 'node:http';
import { runEmbedded } from './embedded.js';
import { profile } from './profile.js';

let server: Server;
let via = '';
let delayMs = 0;
const byConnection = new Map<number, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const port = req.socket.remotePort!;
    byConnection.set(port, (byConnection.get(port) ?? 0) + 1);
    setTimeout(() => res.end('{"version":"v1"}'), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  via = `127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => byConnection.clear());

test('named connections are taken in turn: each carries its share, as fortio -c spreads them', async () => {
  delayMs = 0;
  const r = await runEmbedded(profile({ service: 'reviews', rps: 200, requests: 40, connections: 4 }), { via });
  // A busy machine delays the sender, which then sends late arrivals together: a few may find all
  // four connections busy (dropped), and a request finding its turn's connection busy takes the next.
  expect(r.samples.length + r.dropped).toBe(40);
  expect(r.samples.length).toBeGreaterThanOrEqual(30);
  expect(r.samples.every((s) => s.status === 200 && s.version === 'v1')).toBe(true);
  expect(byConnection.size).toBe(4);
  // Even shares are 10 each; the first-free pool (no connections named) put 36 of 40 on one.
  for (const n of byConnection.values()) expect(n).toBeGreaterThanOrEqual(5);
});

test('named connections bound what is in flight: arrivals finding every connection busy are dropped, never queued', async () => {
  // 50 ms answers at 100 rps over 2 connections: at most 2 out at once, the rest dropped.
  delayMs = 50;
  const r = await runEmbedded(profile({ service: 'reviews', rps: 100, requests: 30, connections: 2 }), { via });
  expect(r.profile.maxInFlight).toBe(2);
  expect(byConnection.size).toBe(2);
  expect(r.dropped).toBeGreaterThan(10);
  expect(r.samples.length).toBe(30 - r.dropped);
  expect(r.samples.every((s) => s.status === 200)).toBe(true);
});
