/** The k6 engine with the real k6 binary against a real HTTP server on loopback. */
import { createServer, type Server } from 'node:http';
import { profile } from '../src/load/profile.js';
import { k6ExitMeaning, k6OutputOfLog, mergeK6, runK6, splitProfile } from '../src/load/k6.js';
import { appContext } from '../src/meshes/registry.js';
import { k6Job, OUTSIDE } from '../src/targets/kube/k6-job.js';
import { runK6PodsHere } from './helpers/k6-pods.js';

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
  expect(r.k6).toMatchObject({ exitCodes: [0, 0], thresholdsCrossed: false });
}, 120_000);

test('a crossed threshold is k6 exit 99, which meshcheck reads as FAILED', async () => {
  const p = profile({ service: 'reviews', requests: 50, rps: 100 });
  const r = await runK6(p, { via: `127.0.0.1:${port}`, thresholds: { meshcheck_latency: ['p(99)<0.0001'] } });
  expect(r.k6).toMatchObject({ exitCodes: [99], thresholdsCrossed: true });
  expect(k6ExitMeaning(99).outcome).toBe('thresholds');
  expect(k6ExitMeaning(105).outcome).toBe('interrupted');
  expect(k6ExitMeaning(107).outcome).toBe('broken');
}, 120_000);

test('a budget shorter than k6\'s one-second window is sent at the asked rate, not spread over the second', async () => {
  // 150 requests at 500 rps (an overhead round): 0.3 s of arrivals, the rest of the window skipped.
  const p = profile({ service: 'reviews', requests: 150, rps: 500 });
  const r = await runK6(p, { via: `127.0.0.1:${port}` });
  expect(r.samples.length + r.dropped).toBe(150);
  // Spread over the second, as before, this was 150 arrivals per second; a third of the asked rate
  // leaves room for a busy machine.
  expect(r.generator?.sentRps).toBeGreaterThan(300);
}, 120_000);

test('a request that gets no response carries k6\'s reason, which a verdict names (D7)', async () => {
  // A port nothing listens on: every connection is refused.
  const closed = await new Promise<number>((r) => { const t = createServer().listen(0, '127.0.0.1', () => { const p = (t.address() as { port: number }).port; t.close(() => r(p)); }); });
  const r = await runK6(profile({ service: 'reviews', requests: 5, rps: 50 }), { via: `127.0.0.1:${closed}` });
  expect(r.samples).toHaveLength(5);
  expect(r.samples.every((s) => s.status === 0 && /connection refused/.test(s.error ?? ''))).toBe(true);
}, 120_000);

test('splitting a profile keeps the budget and the total rate', () => {
  const parts = splitProfile(profile({ service: 's', requests: 1001, rps: 1000 }), 3);
  expect(parts.map((x) => x.requests)).toEqual([334, 334, 333]);
  expect(parts.reduce((n, x) => n + x.rps!, 0)).toBeCloseTo(1000);
});

test("the kube target's k6 Job: its pods' commands, run here on the real k6, give logs that merge into the same kind of result", async () => {
  const p = profile({ service: 'reviews', requests: 300, rps: 300 });
  // The Job as the cluster gets it: two indexed pods, each running its share's script from the ConfigMap.
  const objects = k6Job(p, { ctx: appContext('shop', '1.31', 'run-1'), name: 'k6-1', url: `http://127.0.0.1:${port}`, parallelism: 2, pod: OUTSIDE });
  expect((objects[1] as unknown as { spec: { completions: number } }).spec.completions).toBe(2);
  const outputs = (await runK6PodsHere(objects)).map((log) => k6OutputOfLog(log, 0));
  // Each pod sent its share (k6 may also count one arrival past the budget as dropped; the merge caps that).
  for (const o of outputs) expect(o.samples.length).toBeGreaterThan(120);
  const r = mergeK6(p, outputs, Date.now(), 1000);
  expect(r.samples.length + r.dropped).toBe(300);
  expect(r.histogram.totalCount).toBe(r.samples.length);
  expect(new Set(r.samples.map((s) => s.version))).toEqual(new Set(['v2']));
  expect(r.samples.some((s) => s.status === 503)).toBe(true);
}, 120_000);

test("the kube target's plaintext probe: its pod's command, run here on the real k6, gets through to a plain server and is refused by one that takes mTLS only", async () => {
  const { createServer: createTlsServer } = await import('node:tls');
  const { LocalCa } = await import('../src/dataplane/pki.js');
  const { plaintextProbeJob, probeResult } = await import('../src/targets/kube/k6-job.js');
  // What a sidecar under STRICT does with a plaintext connection: a real TLS server that wants a client certificate.
  const ca = await LocalCa.create('cluster.local');
  const pem = await ca.issue('spiffe://cluster.local/ns/shop/sa/reviews');
  const strict = createTlsServer({ key: pem.key, cert: pem.cert, ca: ca.pem, requestCert: true, rejectUnauthorized: true }, (s) => s.end());
  strict.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => strict.listen(0, '127.0.0.1', r));
  try {
    const targets = [{ instance: 'reviews-v1-a', address: `127.0.0.1:${port}` }, { instance: 'reviews-v2-b', address: `127.0.0.1:${(strict.address() as { port: number }).port}` }];
    const objects = plaintextProbeJob({ ctx: appContext('shop', '1.31', 'run-1'), name: 'probe-1', service: 'reviews', targets });
    const pod = (objects[1] as unknown as { spec: { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } } }).spec.template.metadata;
    expect(pod.labels['sidecar.istio.io/inject']).toBe('false');
    expect(pod.annotations['linkerd.io/inject']).toBe('disabled');
    const [log] = await runK6PodsHere(objects);
    const r = probeResult(log!);
    expect(r.attempts).toBe(2);
    expect(r.rejected).toBe(1);
    expect(r.detail[0]).toMatch(/^reviews-v1-a: HTTP (200|503)$/);
    expect(r.detail[1]).toMatch(/^reviews-v2-b: no HTTP response \(.+\)$/);
  } finally {
    strict.close();
  }
}, 60_000);
