/**
 * One engine run in its own process, so that the benchmark can charge it every CPU-second it
 * uses (its own and its children's, k6 included). Prints one JSON line with what it achieved.
 *   node dist/bench/engine-child.js embedded|k6|k6-raw|fortio VIA PROFILE_JSON
 * k6-raw runs the same script (load/requests.js) with the real k6 but without per-request output: k6 at
 * its cheapest, the fairest yardstick for requests per CPU-second. fortio is fortio's own load engine
 * (meshcheck-fortio), the yardstick for latency: Istio's published figures were measured with it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEmbedded } from '../src/load/embedded.js';
import { k6Env, K6_SCRIPTS, runK6 } from '../src/load/k6.js';
import type { LoadProfile } from '../src/load/profile.js';
import { tool } from '../src/util/tools.js';

const [mode, via, json] = process.argv.slice(2);
const p = JSON.parse(json!) as LoadProfile;
const ms = (us: number) => Number((us / 1000).toFixed(3));
if (mode === 'k6-raw') {
  const dir = mkdtempSync(join(tmpdir(), 'meshcheck-bench-k6-'));
  const summaryFile = join(dir, 'summary.json');
  const env = { ...process.env, K6_NO_USAGE_REPORT: 'true', ...k6Env(p, { url: `http://${via}`, summary: summaryFile }) };
  const r = spawnSync(tool('k6'), ['run', '--quiet', '--no-color', '--address', '', K6_SCRIPTS.requests], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as { metrics: Record<string, { values: Record<string, number> }> };
  rmSync(dir, { recursive: true, force: true });
  const lat = s.metrics.meshcheck_latency!.values;
  process.stdout.write(`${JSON.stringify({ code: r.status, completed: lat.count, dropped: s.metrics.dropped_iterations?.values.count ?? 0, p50: lat.med, p90: lat['p(90)'], p99: lat['p(99)'] })}\n`);
} else if (mode === 'fortio') {
  // fortio's own engine (go/fortio): its connections are the profile's in-flight limit, its headers the profile's.
  const args = ['-url', `http://${via}${p.path}`, '-qps', String(p.rps ?? 0), '-n', String(p.requests), '-c', String(p.connections ?? p.maxInFlight),
    ...(p.payloadBytes ? ['-payload-size', String(p.payloadBytes)] : []), ...Object.entries({ Host: p.service, ...p.headers }).flatMap(([k, v]) => ['-H', `${k}: ${v}`])];
  const r = spawnSync(tool('meshcheck-fortio'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`meshcheck-fortio ${args.join(' ')} exited with ${r.status}`);
  const f = JSON.parse(r.stdout) as { count: number; percentilesMs: Record<string, number> };
  const q = (k: string) => Number(f.percentilesMs[k]!.toFixed(3));
  process.stdout.write(`${JSON.stringify({ code: r.status, completed: f.count, dropped: 0, p50: q('p50'), p90: q('p90'), p99: q('p99') })}\n`);
} else {
  const r = mode === 'k6' ? await runK6(p, { via, processes: 1 }) : await runEmbedded(p, { via });
  const at = (q: number) => ms(r.histogram.getValueAtPercentile(q));
  process.stdout.write(`${JSON.stringify({ code: 0, completed: r.samples.length, dropped: r.dropped, p50: at(50), p90: at(90), p99: at(99) })}\n`);
}
