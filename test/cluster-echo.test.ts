import { request } from 'undici';
import { startEcho, type EchoProcess } from './helpers/echo.js';

/** The echo workload meshcheck deploys on a cluster (src/workload/echo.mjs), run here as the real process a pod runs. */
let ratings: EchoProcess;
let reviews: EchoProcess;

beforeAll(async () => {
  ratings = await startEcho({ service: 'ratings', version: 'v1', instance: 'ratings-v1-abc' });
  reviews = await startEcho({ service: 'reviews', version: 'v2', instance: 'reviews-v2-xyz', upstreamUrl: `http://127.0.0.1:${ratings.port}` });
}, 30_000);

afterAll(async () => {
  await reviews?.stop();
  await ratings?.stop();
});

const get = async (port: number, path = '/', headers: Record<string, string> = {}) => {
  const r = await request(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: r.statusCode, headers: r.headers, body: (await r.body.json()) as Record<string, unknown> };
};
const behave = async (b: unknown) => {
  const r = await request(`http://127.0.0.1:${reviews.directPort}/__meshcheck/behaviour`, { method: 'POST', body: typeof b === 'string' ? b : JSON.stringify(b) });
  return { status: r.statusCode, text: await r.body.text() };
};

test('a reply says which service, version and instance answered, in the body and in the headers the load engines read', async () => {
  const r = await get(reviews.port, '/x');
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ service: 'reviews', version: 'v2', instance: 'reviews-v2-xyz', path: '/x', caller: null });
  expect(r.headers['x-meshcheck-version']).toBe('v2');
  expect(r.headers['x-meshcheck-instance']).toBe('reviews-v2-xyz');
});

test("the caller's identity as a sidecar passes it on: an Envoy's XFCC URI (Istio, Consul), else Linkerd's l5d-client-id", async () => {
  const xfcc = 'By=spiffe://cluster.local/ns/shop/sa/reviews;Hash=abc;Subject="";URI=spiffe://cluster.local/ns/shop/sa/productpage';
  expect((await get(reviews.port, '/', { 'x-forwarded-client-cert': xfcc })).body.caller).toBe('spiffe://cluster.local/ns/shop/sa/productpage');
  expect((await get(reviews.port, '/', { 'l5d-client-id': 'productpage.shop.serviceaccount.identity.linkerd.cluster.local' })).body.caller).toBe('productpage.shop.serviceaccount.identity.linkerd.cluster.local');
});

test('/chain calls the upstream service and carries its reply', async () => {
  const r = await get(reviews.port, '/chain');
  expect(r.body.upstream).toMatchObject({ status: 200, service: 'ratings', version: 'v1', path: '/chain' });
  // The end of the chain has no upstream.
  expect((await get(ratings.port, '/chain')).body.upstream).toBeUndefined();
});

test('told to fail, the meshed port answers with the status and counts it; the direct port (the baseline) is not affected; told again, it is normal', async () => {
  expect(await behave({ failStatus: 503 })).toEqual({ status: 200, text: JSON.stringify({ failStatus: 503, failed: 0 }) });
  expect((await get(reviews.port)).status).toBe(503);
  expect((await get(reviews.port)).status).toBe(503);
  const direct = await get(reviews.directPort, '/direct');
  expect(direct.status).toBe(200);
  expect(direct.body).toMatchObject({ service: 'reviews', version: 'v2', path: '/direct' });
  const state = await request(`http://127.0.0.1:${reviews.directPort}/__meshcheck/behaviour`);
  expect(await state.body.json()).toEqual({ failStatus: 503, failed: 2 });
  expect(await behave({})).toEqual({ status: 200, text: JSON.stringify({ failed: 0 }) });
  expect((await get(reviews.port)).status).toBe(200);
});

test('told to be slow, the meshed port answers after the delay', async () => {
  await behave({ delayMs: 300 });
  const t0 = performance.now();
  expect((await get(reviews.port)).status).toBe(200);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  await behave({});
});

test('a behaviour that is not JSON is refused with 400 and changes nothing', async () => {
  const r = await behave('{oops');
  expect(r.status).toBe(400);
  expect(r.text).toMatch(/^not JSON: /);
  expect((await get(reviews.port)).status).toBe(200);
});

test('SIGTERM (a pod being stopped) ends it at once with exit 0', async () => {
  const e = await startEcho({ service: 'ratings', version: 'v1', instance: 'r' });
  const t0 = performance.now();
  expect(await e.stop()).toBe(0);
  expect(performance.now() - t0).toBeLessThan(5000);
});
