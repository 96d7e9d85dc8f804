import { UpstreamCluster } from './cluster.js';
import { LocalCa } from './pki.js';
import type { SidecarMetrics } from './sidecar-metrics.js';

// The ejection rule only: no connection is made, so the TLS material just has to parse.
const metrics = { clusterName: (s: string) => s, ejectionsTotal: { inc: () => undefined }, ejectionsActive: { set: () => undefined } } as unknown as SidecarMetrics;
const endpoints = ['v1', 'v2', 'v3'].map((version, n) => ({ service: 'reviews', version, instance: `reviews-${version}-0`, address: `127.0.0.1:${20000 + n}`, identity: 'spiffe://cluster.local/ns/t/sa/reviews' }));

async function ejectedAfterFailures(maxEjectionPercent?: number): Promise<boolean[]> {
  const ca = await LocalCa.create('cluster.local');
  const pem = await ca.issue('spiffe://cluster.local/ns/t/sa/loadclient');
  const c = new UpstreamCluster('reviews', { outlier: { consecutive5xx: 3, intervalMs: 60_000, baseEjectionMs: 30_000, maxEjectionPercent } }, endpoints, { cert: pem.cert, key: pem.key, ca: ca.pem }, metrics);
  const hosts = (c as unknown as { hosts: Parameters<UpstreamCluster['record']>[0][] }).hosts;
  // Two hosts fail three times in a row each.
  for (const h of hosts.slice(0, 2)) for (let i = 0; i < 3; i++) c.record(h, 503);
  const out = c.state().map((s) => s.ejected);
  await c.close();
  return out;
}

describe('outlier ejection cap, as current Envoy applies it', () => {
  test('no cap stated: the smallest cap that lets one of 3 hosts go ejects exactly one', async () => {
    expect(await ejectedAfterFailures()).toEqual([true, false, false]);
  });
  test('a 10% cap ejects none of 3 hosts, the first ejection included (100 x 1 / 3 > 10)', async () => {
    expect(await ejectedAfterFailures(10)).toEqual([false, false, false]);
  });
  test('a 67% cap lets two of 3 go', async () => {
    expect(await ejectedAfterFailures(67)).toEqual([true, true, false]);
  });
});
