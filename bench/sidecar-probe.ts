/**
 * A quick probe of the reference sidecar's cost (not part of npm run bench's record): starts the
 * local target, warms up, then sends RPS through two hops for SECONDS and prints CPU per 1000 rps
 * of both sidecars on the path, their resident memory and the added p50/p99. Usage:
 *   node dist/bench/sidecar-probe.js [rps] [seconds]
 */
import 'reflect-metadata';
import { Ledger } from '../src/ledger/ledger.js';
import { LocalTarget } from '../src/targets/local/local-target.js';
import { runEmbedded } from '../src/load/embedded.js';
import { profile } from '../src/load/profile.js';

const rps = Number(process.argv[2] ?? 500);
const seconds = Number(process.argv[3] ?? 10);
const ledger = new Ledger(`probe-${process.pid}`);
const target = await LocalTarget.start(ledger);
try {
  const inst = target.instancesOf('reviews')[0]!;
  const client = target.caller();
  await target.apply([{ kind: 'HeaderRoute', service: 'reviews', header: 'x-probe', value: '1', version: inst.version }]);
  const mesh = (n: number) => runEmbedded(profile({ service: 'reviews', rps, requests: n, headers: { 'x-probe': '1' } }), { via: `127.0.0.1:${client.outboundPort}` });
  const base = (n: number) => runEmbedded(profile({ service: 'reviews', rps, requests: n }), { via: `127.0.0.1:${inst.appPort}` });
  const warm = Number(process.env.WARM_S ?? 2);
  await base(rps * warm);
  await mesh(rps * warm);
  console.log(`measuring from ${new Date().toISOString()}`);
  const b = await base(rps * seconds);
  const before = await target.sidecarStats();
  const m = await mesh(rps * seconds);
  const after = await target.sidecarStats();
  const ms = (h: typeof b.histogram, p: number) => h.getValueAtPercentile(p) / 1000;
  for (const name of [client.name, inst.name]) {
    const x = before.find((s) => s.instance === name)!;
    const y = after.find((s) => s.instance === name)!;
    console.log(`${name}: ${(((y.cpuSeconds - x.cpuSeconds) * 1000) / m.samples.length).toFixed(3)} vCPU per 1000 rps, rss ${(y.rssBytes / 1048576).toFixed(1)} MB`);
  }
  console.log(`added p50 ${(ms(m.histogram, 50) - ms(b.histogram, 50)).toFixed(3)} ms (mesh ${ms(m.histogram, 50).toFixed(3)}, base ${ms(b.histogram, 50).toFixed(3)}); added p99 ${(ms(m.histogram, 99) - ms(b.histogram, 99)).toFixed(3)} ms (mesh ${ms(m.histogram, 99).toFixed(3)}, base ${ms(b.histogram, 99).toFixed(3)})`);
  console.log(`mesh statuses: ${JSON.stringify(Object.fromEntries([...new Set(m.samples.map((s) => s.status))].map((k) => [k, m.samples.filter((s) => s.status === k).length])))}`);
} finally {
  await target.stop();
  ledger.close();
}
