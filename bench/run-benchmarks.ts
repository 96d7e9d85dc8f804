/**
 * Benchmarks of the performance bar (DESIGN.md). Prints a Markdown section and appends it to
 * bench/RESULTS.md with the date and machine. Timing assertions live here, never in unit tests.
 */
import 'reflect-metadata';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../src/ledger/ledger.js';
import { LocalTarget } from '../src/targets/local/local-target.js';
import { runEmbedded } from '../src/load/embedded.js';
import { profile } from '../src/load/profile.js';
import { achievedRps } from '../src/load/result.js';
import { PACKAGE_ROOT } from '../src/cli/paths.js';
import { rateBand, SequentialPlan } from '../src/verdicts/sample-checks.js';
import type { Sample } from '../src/load/profile.js';
import { seededRng } from '../src/util/seeded-rng.js';

const rows: string[] = [];
const row = (what: string, value: string, bar: string, ok: boolean | undefined) => rows.push(`| ${what} | ${value} | ${bar} | ${ok === undefined ? '-' : ok ? 'met' : 'NOT met'} |`);
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)]!;

// 1. Full local suite wall time, through the real CLI.
const out = mkdtempSync(join(os.tmpdir(), 'meshcheck-bench-'));
const t0 = performance.now();
const suite = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'meshcheck.js'), 'run', '--out', out, '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
const suiteS = (performance.now() - t0) / 1000;
row('full local suite wall time', `${suiteS.toFixed(1)} s (exit ${suite.status})`, '<= 60 s', suiteS <= 60 && suite.status === 0);

// 5. Share of the request budget the sequential verdicts used in that suite.
const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as { scenarios: { loads: { budget: number; completed: number; stoppedEarly: boolean }[] }[] };
const loads = record.scenarios.flatMap((s) => s.loads).filter((l) => l.budget > 0);
const share = loads.reduce((a, l) => a + l.completed / l.budget, 0) / loads.length;
const early = loads.filter((l) => l.stoppedEarly);
row('request budget used by sequential verdicts (suite, all loads)', `${(share * 100).toFixed(0)}% average over ${loads.length} loads; ${early.length} stopped early`, '<= 50% when the truth is clear', undefined);
if (early.length) row('budget used where a verdict decided early (suite; truths not all clear)', `${((early.reduce((a, l) => a + l.completed / l.budget, 0) / early.length) * 100).toFixed(0)}% average over ${early.length} loads`, 'informational', undefined);

// 5b. Budget share when the truth is clear, by simulation of the sequential plan (2000 runs each).
{
  const cases: { name: string; p: number; band: [number, number] }[] = [
    { name: 'no 503s vs "fewer than 5%"', p: 0, band: [0, 0.05] },
    { name: '90% vs "30% ± 5%"', p: 0.9, band: [0.25, 0.35] },
    { name: '20% vs "20% ± 10%"', p: 0.2, band: [0.1, 0.3] },
    { name: '50% vs "20% ± 5%"', p: 0.5, band: [0.15, 0.25] },
  ];
  const shares: string[] = [];
  const random = seededRng(2026);
  let total = 0;
  for (const c of cases) {
    let used = 0;
    for (let i = 0; i < 2000; i++) {
      const check = rateBand('sim', (x) => x.status === 503, c.band[0], c.band[1], 'had 503');
      const plan = new SequentialPlan([check], 1000);
      const samples: Sample[] = [];
      while (samples.length < 1000) {
        samples.push({ status: random() < c.p ? 503 : 200, latencyUs: 1000, overloaded: false, flags: '-' });
        if (samples.length % 20 === 0 && plan.update(samples)) break;
      }
      used += samples.length / 1000;
    }
    shares.push(`${c.name}: ${((used / 2000) * 100).toFixed(0)}%`);
    total += used / 2000;
  }
  const mean = total / cases.length;
  row('request budget used when the truth is clear (simulated, budget 1000)', `${(mean * 100).toFixed(0)}% average (${shares.join('; ')})`, '<= 50%', mean <= 0.5);
}

const ledger = new Ledger(`bench-${process.pid}`);
const target = await LocalTarget.start(ledger);
try {
  const inst = target.instancesOf('reviews')[0]!;
  // 2. Embedded engine at 2000 rps against the local echo (no sidecar).
  const r2000 = await runEmbedded(profile({ service: 'reviews', rps: 2000, requests: 20_000 }), { via: `127.0.0.1:${inst.appPort}` });
  const rate = achievedRps(r2000);
  row('embedded engine at 2000 rps (10 s, echo)', `${rate.toFixed(1)} rps achieved, ${r2000.dropped} dropped, p99 ${(r2000.histogram.getValueAtPercentile(99) / 1000).toFixed(2)} ms`, 'within 1% of 2000, 0 dropped', Math.abs(rate - 2000) / 2000 <= 0.01 && r2000.dropped === 0);

  // 3. Sidecar added latency (two hops) at 500 rps, 10 s each, pinned to one instance.
  await target.apply([{ kind: 'HeaderRoute', service: 'reviews', header: 'x-bench', value: '1', version: inst.version }]);
  // Warm-up (connections, TLS sessions, JIT) is trimmed, as the vendors' benchmarks do.
  await runEmbedded(profile({ service: 'reviews', rps: 500, requests: 1000 }), { via: `127.0.0.1:${inst.appPort}` });
  await runEmbedded(profile({ service: 'reviews', rps: 500, requests: 1000, headers: { 'x-bench': '1' } }), { via: `127.0.0.1:${target.caller().outboundPort}` });
  const base = await runEmbedded(profile({ service: 'reviews', rps: 500, requests: 5000 }), { via: `127.0.0.1:${inst.appPort}` });
  const mesh = await runEmbedded(profile({ service: 'reviews', rps: 500, requests: 5000, headers: { 'x-bench': '1' } }), { via: `127.0.0.1:${target.caller().outboundPort}` });
  const ms = (h: typeof base.histogram, p: number) => h.getValueAtPercentile(p) / 1000;
  const add50 = ms(mesh.histogram, 50) - ms(base.histogram, 50);
  const add99 = ms(mesh.histogram, 99) - ms(base.histogram, 99);
  row('sidecar added latency, two hops, 500 rps: p50', `${add50.toFixed(3)} ms (mesh ${ms(mesh.histogram, 50).toFixed(3)} - baseline ${ms(base.histogram, 50).toFixed(3)})`, '<= 1 ms', add50 <= 1);
  row('sidecar added latency, two hops, 500 rps: p99', `${add99.toFixed(3)} ms (mesh ${ms(mesh.histogram, 99).toFixed(3)} - baseline ${ms(base.histogram, 99).toFixed(3)})`, '<= 3 ms', add99 <= 3);

  // 6. Engines side by side against the same target (the echo workload, no sidecar), each in its own
  // process and charged its CPU (and its children's: k6) through the shell's `times`.
  const engine = (mode: string, p: object, port = inst.appPort!) => {
    const r = spawnSync('bash', ['-c', '"$@" && times', 'engine', process.execPath, join(PACKAGE_ROOT, 'dist', 'bench', 'engine-child.js'), mode, `127.0.0.1:${port}`, JSON.stringify(p)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`engine ${mode} failed: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    // `times` prints the shell's own user/system time, then its children's: "0m1.234s 0m0.567s".
    const secs = (t: string) => t.split(' ').reduce((a, x) => { const m = /(\d+)m([\d.]+)s/.exec(x)!; return a + Number(m[1]) * 60 + Number(m[2]); }, 0);
    const res = JSON.parse(lines[0]!) as { completed: number; dropped: number; p50: number; p99: number };
    return { ...res, cpu: secs(lines[lines.length - 1]!) };
  };
  const saturate = profile({ service: 'reviews', rps: 20_000, requests: 100_000, maxInFlight: 64 });
  const sat = ['embedded', 'k6-raw', 'k6'].map((m) => ({ mode: m, ...engine(m, saturate) }));
  const perCpu = (x: { completed: number; cpu: number }) => x.completed / x.cpu;
  const [emb, raw] = sat as [typeof sat[0], typeof sat[0]];
  row('engines at saturation (echo, 20000 rps asked for 5 s, 64 connections): requests per CPU-second of the load generator',
    sat.map((x) => `${x.mode === 'k6-raw' ? 'k6 (script only)' : x.mode === 'k6' ? 'k6 as meshcheck runs it (--out json, merged)' : 'embedded'} ${perCpu(x).toFixed(0)} (${x.completed} requests, ${x.cpu.toFixed(2)} CPU-s)`).join('; '),
    'embedded >= k6', perCpu(emb) >= perCpu(raw));
  const at1000 = profile({ service: 'reviews', rps: 1000, requests: 10_000 });
  const e1 = engine('embedded', at1000);
  const k1 = engine('k6', at1000);
  const diff = (a: number, b: number) => Math.abs(a - b) / Math.max(a, b);
  const agree = (what: string, e: typeof e1, k: typeof k1) => row(what, `embedded ${e.p50} / ${e.p99} ms (${e.dropped} dropped); k6 ${k.p50} / ${k.p99} ms (${k.dropped} dropped); differ by ${(diff(e.p50, k.p50) * 100).toFixed(0)}% / ${(diff(e.p99, k.p99) * 100).toFixed(0)}%`, 'agree within 10%', diff(e.p50, k.p50) <= 0.1 && diff(e.p99, k.p99) <= 0.1);
  agree('engines at 1000 rps (echo, 10 s): p50 / p99', e1, k1);
  // The same through the meshed client's sidecar and the workload's (two hops, pinned by the x-bench route).
  const meshed = profile({ service: 'reviews', rps: 1000, requests: 10_000, headers: { 'x-bench': '1' } });
  agree('engines at 1000 rps (two sidecar hops, 10 s): p50 / p99', engine('embedded', meshed, target.caller().outboundPort), engine('k6', meshed, target.caller().outboundPort));

  // 4. Convergence: apply to every sidecar acknowledging, 50 pushes.
  const conv: number[] = [];
  for (let i = 0; i < 50; i++) {
    const { undo, convergenceMs } = await target.apply([{ kind: 'FaultAbort', service: 'reviews', percent: i % 100, httpStatus: 503 }]);
    conv.push(convergenceMs);
    await undo();
  }
  row('policy convergence (apply -> all 12 sidecars ack), 50 pushes', `p50 ${q(conv, 0.5).toFixed(1)} ms, max ${Math.max(...conv).toFixed(1)} ms`, '<= 100 ms', Math.max(...conv) <= 100);
} finally {
  await target.stop();
  ledger.close();
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const section = [
  `## ${new Date().toISOString().slice(0, 10)} — ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${os.platform()} ${os.release()}`,
  '',
  '| benchmark | result | bar | |',
  '|---|---|---|---|',
  ...rows,
  '',
].join('\n');
process.stdout.write(`${section}\n`);
appendFileSync(join(PACKAGE_ROOT, 'bench', 'RESULTS.md'), `\n${section}`);
