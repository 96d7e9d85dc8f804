/**
 * The k6 engine: a LoadProfile as the settings of load/requests.js (constant-arrival-rate or a
 * concurrent burst, tags, thresholds, handleSummary JSON), run by the real k6 binary, and turned into the same
 * LoadResult as the embedded engine. Every request is recorded by the script as one point of a custom
 * metric in k6's JSON output, so results from several k6 processes are merged exactly, request by
 * request, never by averaging their percentiles.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import { InfraError } from '../errors.js';
import { tool } from '../util/tools.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import type { LoadProfile, Sample } from './profile.js';
import { generatorFigures, newHistogram, type LoadResult } from './result.js';

export const K6_METRIC = 'meshcheck_latency';
/** Starts the line of k6's end-of-test summary when the script prints it to stdout (in a pod's log). */
export const K6_SUMMARY_MARK = 'MESHCHECK_K6_SUMMARY';

export interface K6Options {
  /** Address (host:port) of the caller's sidecar outbound listener. */
  via: string;
  /** Split the load over this many k6 processes running at once (rate and budget divided). */
  processes?: number;
  /** k6 thresholds, e.g. { meshcheck_latency: ['p(99)<50'] }; crossing one makes k6 exit 99. */
  thresholds?: Record<string, string[]>;
}

/** What a k6 exit code means for meshcheck. */
export function k6ExitMeaning(code: number | null): { outcome: 'ok' | 'thresholds' | 'interrupted' | 'broken'; text: string } {
  switch (code) {
    case 0: return { outcome: 'ok', text: 'k6 finished' };
    case 99: return { outcome: 'thresholds', text: 'k6 thresholds were crossed (exit 99): FAILED' };
    case 105: return { outcome: 'interrupted', text: 'k6 was interrupted (exit 105)' };
    case 107: return { outcome: 'broken', text: 'the k6 script threw an exception (exit 107)' };
    default: return { outcome: 'broken', text: `k6 exited with ${code}` };
  }
}

/** The k6 scripts meshcheck runs, as real files (load/): each takes its settings from the environment. */
export const K6_SCRIPTS = { requests: join(PACKAGE_ROOT, 'load', 'requests.js'), plaintextProbe: join(PACKAGE_ROOT, 'load', 'plaintext-probe.js') } as const;

/**
 * The environment load/requests.js reads for one k6 process's share of a profile. Pure: the same
 * share gives the same settings. `summary` "stdout" prints the end-of-test summary as one marked line
 * (in a pod's log, beside the JSON output); else the file it goes to.
 */
export function k6Env(p: LoadProfile, o: { url: string; summary: string; thresholds?: Record<string, string[]> }): Record<string, string> {
  return {
    MESHCHECK_URL: o.url, MESHCHECK_SERVICE: p.service, MESHCHECK_REQUESTS: String(p.requests), MESHCHECK_RPS: String(p.rps ?? 0),
    MESHCHECK_MAX_IN_FLIGHT: String(p.maxInFlight), MESHCHECK_METHOD: p.method, MESHCHECK_PATH: p.path,
    MESHCHECK_HEADERS: JSON.stringify(p.headers), MESHCHECK_PAYLOAD_BYTES: String(p.payloadBytes),
    MESHCHECK_THRESHOLDS: JSON.stringify(o.thresholds ?? {}), MESHCHECK_SUMMARY: o.summary,
  };
}

/** What one k6 process gave: its requests, its dropped arrivals, its exit code and its output. */
export interface K6Output { samples: (Sample & { sentAt: number })[]; dropped: number; code: number | null; log: string }

/** Splits a profile into `n` shares that together send the same budget at the same total rate. */
export function splitProfile(p: LoadProfile, n: number): LoadProfile[] {
  const k = Math.max(1, Math.min(n, p.requests));
  return Array.from({ length: k }, (_, i) => ({
    ...p,
    requests: Math.floor(p.requests / k) + (i < p.requests % k ? 1 : 0),
    ...(p.rps ? { rps: p.rps / k } : {}),
    maxInFlight: Math.max(1, Math.floor(p.maxInFlight / k)),
  }));
}

/** Runs a profile with the real k6 binary (one or more processes) and merges their per-request output. */
export async function runK6(p: LoadProfile, o: K6Options): Promise<LoadResult> {
  const k6 = tool('k6');
  const dir = mkdtempSync(join(tmpdir(), 'meshcheck-k6-'));
  const startedAt = Date.now();
  const t0 = performance.now();
  try {
    const shares = splitProfile(p, o.processes ?? 1);
    // k6 reports requests only when it ends (its JSON output), so there is no live progress to show.
    const outputs = await Promise.all(shares.map((share, i) => runOne(k6, share, i, dir, o)));
    for (const out of outputs) {
      const m = k6ExitMeaning(out.code);
      if (m.outcome === 'interrupted' || m.outcome === 'broken') throw new InfraError(`${m.text}; k6 said: ${out.log.trim().split('\n').slice(-5).join(' | ')}`);
    }
    return mergeK6(p, outputs, startedAt, performance.now() - t0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runOne(k6: string, p: LoadProfile, i: number, dir: string, o: K6Options): Promise<K6Output> {
  const summaryFile = join(dir, `summary-${i}.json`);
  const points = join(dir, `points-${i}.json`);
  const env = { ...process.env, K6_NO_USAGE_REPORT: 'true', K6_AUTO_EXTENSION_RESOLUTION: 'false', ...k6Env(p, { url: `http://${o.via}`, summary: summaryFile, thresholds: o.thresholds }) };
  const child = spawn(k6, ['run', '--quiet', '--no-color', '--address', '', '--out', `json=${points}`, K6_SCRIPTS.requests], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  const samples = existsSync(points) ? await readPoints(points) : [];
  const dropped = existsSync(summaryFile) ? k6Dropped(readFileSync(summaryFile, 'utf8')) : 0;
  return { samples, dropped, code, log };
}

/** One request from a line of k6's JSON output (the custom metric's Point), or undefined for any other line. */
export function k6Point(line: string): (Sample & { sentAt: number }) | undefined {
  if (!line.includes(`"metric":"${K6_METRIC}"`) || !line.includes('"type":"Point"')) return undefined;
  const point = JSON.parse(line.slice(line.indexOf('{'))) as { data: { time: string; value: number; tags: Record<string, string> } };
  const t = point.data.tags;
  return {
    status: Number(t.status ?? 0),
    ...(t.version ? { version: t.version } : {}),
    latencyUs: Math.max(1, Math.round(point.data.value * 1000)),
    overloaded: t.overloaded === 'true',
    flags: t.flags ?? '-',
    ...(t.failure ? { error: t.failure } : {}),
    ...(t.reply ? { reply: t.reply } : {}),
    sentAt: Number(t.sent ?? Date.parse(point.data.time) - point.data.value),
  };
}

/** The arrivals k6 dropped, from its end-of-test summary (JSON). */
export function k6Dropped(summary: string): number {
  const s = JSON.parse(summary) as { metrics?: Record<string, { values?: { count?: number } }> };
  return s.metrics?.dropped_iterations?.values?.count ?? 0;
}

/**
 * One k6 process's output read from its pod's log: the points of the JSON output (written to
 * stdout) and the marked summary line, with the exit code of its container.
 */
export function k6OutputOfLog(log: string, code: number | null): K6Output {
  const samples: (Sample & { sentAt: number })[] = [];
  let dropped = 0;
  for (const line of log.split('\n')) {
    if (line.startsWith(`${K6_SUMMARY_MARK} `)) dropped = k6Dropped(line.slice(K6_SUMMARY_MARK.length + 1));
    else {
      const p = k6Point(line);
      if (p) samples.push(p);
    }
  }
  return { samples, dropped, code, log };
}

/** The custom metric's points in k6's JSON output: one per request. */
async function readPoints(file: string): Promise<(Sample & { sentAt: number })[]> {
  const out: (Sample & { sentAt: number })[] = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    const p = k6Point(line);
    if (p) out.push(p);
  }
  return out;
}

/**
 * Merges the processes' requests into one result, in send order: one histogram from every request's
 * latency. k6 does not send late (it drops an arrival that finds no free VU), so it has no send lag to
 * report; its dropped_iterations and the achieved rate are its health figures. `durationMs` is how long
 * the load took; without it (a load in a cluster, whose wall time holds the Job's scheduling, start and
 * log read), the requests' own span: from the first sent to the last answered.
 */
export function mergeK6(p: LoadProfile, outputs: K6Output[], startedAt: number, durationMs?: number): LoadResult {
  const all = outputs.flatMap((o) => o.samples).sort((a, b) => a.sentAt - b.sentAt);
  durationMs ??= all.reduce((end, s) => Math.max(end, s.sentAt + s.latencyUs / 1000), all[0]?.sentAt ?? 0) - (all[0]?.sentAt ?? 0);
  const histogram = newHistogram();
  const timeline: LoadResult['timeline'] = [];
  const first = all[0]?.sentAt ?? startedAt;
  for (const s of all) {
    histogram.recordValue(s.latencyUs);
    const sec = Math.max(0, Math.floor((s.sentAt + s.latencyUs / 1000 - first) / 1000));
    while (timeline.length <= sec) timeline.push({ second: timeline.length, completed: 0, errors: 0 });
    timeline[sec]!.completed++;
    if (s.status < 200 || s.status >= 300) timeline[sec]!.errors++;
  }
  const samples: Sample[] = all.map(({ sentAt: _sentAt, ...s }) => s);
  // Every arrival of the budget that was not sent counts as dropped. k6 counts the arrivals that found
  // no free VU, and may count one past the budget (never part of it). When its arrival loop is behind
  // at the end of the window, k6 ends the scenario without starting or counting the arrivals still
  // due (k6 v2.2 lib/executor/constant_arrival_rate.go): those were not sent either.
  const dropped = Math.max(0, p.requests - samples.length);
  const exitCodes = outputs.map((o) => o.code);
  const sendWindowMs = all.length > 1 ? all[all.length - 1]!.sentAt - first : 0;
  const generator = generatorFigures(p, { arrivals: samples.length + dropped, dropped, completed: samples.length, sendWindowMs, durationMs });
  return { engine: 'k6', profile: p, startedAt, durationMs, sent: samples.length, dropped, stoppedEarly: false, samples, histogram, timeline, k6: { exitCodes, thresholdsCrossed: exitCodes.includes(99), droppedCounted: Math.min(dropped, outputs.reduce((n, o) => n + o.dropped, 0)) }, generator };
}
