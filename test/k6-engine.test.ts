/** The k6 engine with the real k6 binary against a real HTTP server on loopback. */
import { createServer, type Server } from 'node:http';
import { profile } from '../src/load/profile.js';
import { k6ExitMeaning, runK6, splitProfile } from '../src/load/k6.js';

let server: Server;
let port = 0;

beforeAll(async () => {
  let n = 0;
  server = createServer((req, res) => {
    n++;
    // Every tenth request answers 503 so statuses are not all alike; the version is read from a header.
    res.writeHead(n % 10 === 0 ? 503 : 200, { 'x-meshcheck-version': 'v2', 'content-type': 'application/json' });
    res.end(JSON.stringify({ host: req.headers.host }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('two k6 processes: every request is merged into one result (no averaging), with statuses and versions', async () => {
  const p = profile({ service: 'reviews', requests: 400, rps: 200 });
  const r = await runK6(p, { via: `127.0.0.1:${port}`, processes: 2 });
  expect(r.engine).toBe('k6');
  expect(r.samples.length + r.dropped).toBe(400);
  expect(r.samples.length).toBeGreaterThan(350);
  expect(r.histogram.totalCount).toBe(r.samples.length);
  expect(new Set(r.samples.map((s) => s.version))).toEqual(new Set(['v2']));
  const s503 = r.samples.filter((s) => s.status === 503).length;
  expect(s503).toBeGreaterThan(r.samples.length * 0.05);
  expect(r.timeline.reduce((n, t) => n + t.completed, 0)).toBe(r.samples.length);
  expect(r.k6).toEqual({ exitCodes: [0, 0], thresholdsCrossed: false });
}, 120_000);

test('a crossed threshold is k6 exit 99, which meshcheck reads as FAILED', async () => {
  const p = profile({ service: 'reviews', requests: 50, rps: 100 });
  const r = await runK6(p, { via: `127.0.0.1:${port}`, thresholds: { meshcheck_latency: ['p(99)<0.0001'] } });
  expect(r.k6).toEqual({ exitCodes: [99], thresholdsCrossed: true });
  expect(k6ExitMeaning(99).outcome).toBe('thresholds');
  expect(k6ExitMeaning(105).outcome).toBe('interrupted');
  expect(k6ExitMeaning(107).outcome).toBe('broken');
}, 120_000);

test('splitting a profile keeps the budget and the total rate', () => {
  const parts = splitProfile(profile({ service: 's', requests: 1001, rps: 1000 }), 3);
  expect(parts.map((x) => x.requests)).toEqual([334, 334, 333]);
  expect(parts.reduce((n, x) => n + x.rps!, 0)).toBeCloseTo(1000);
});
