import { hdr, latencies, record } from '../../test/helpers/records.js';
import type { OverheadSummary } from '../overhead/overhead.js';
import type { Verdict } from '../verdicts/outcome.js';
import { GATE_DEFAULTS, gateRuns, sidecarRole } from './gate.js';
import { gateHtml, gateMarkdown } from './gate-format.js';

const est = (estimate: number, half: number) => ({ estimate, lo: estimate - half, hi: estimate + half });

/** An overhead measurement like the kube target's: the caller's k6 pod and the destination's pod, by their pod names. */
function overhead(o: { added?: number; cpu?: number; memoryMb?: number; pods?: [string, string] } = {}): OverheadSummary {
  const [caller, dest] = o.pods ?? ['k6-standby-3', 'reviews-v1-7d4b9c8f6d-x2kqp'];
  return {
    scenario: 'Added latency at Istio\'s conditions', service: 'reviews', mesh: 'istio', baseline: 'none', engine: 'k6',
    conditions: { rps: 1000, payloadBytes: 1024, connections: 4, rounds: 10, requestsPerRound: 1000, warmupRequests: 2000, protocol: 'HTTP/1.1', mtls: true },
    confidence: 0.95, samples: { baseline: 10_000, mesh: 10_000 }, achievedRps: { baseline: 999, mesh: 998 }, errors: { baseline: 0, mesh: 0 },
    latencyMs: { baseline: { p50: 0.3, p90: 0.5, p99: 1 }, mesh: { p50: 1, p90: 2, p99: 4 } },
    addedMs: { p50: est(o.added ?? 0.7, 0.05), p90: est(1.5, 0.2), p99: est(3, 1) },
    sidecars: [caller, dest].map((instance) => ({ instance, vcpuPer1000Rps: { ...est(o.cpu ?? 0.34, 0.01), rounds: [] }, memoryMb: o.memoryMb ?? 33 })),
    histograms: { baseline: hdr(latencies(1, 500)), mesh: hdr(latencies(2, 500)) },
  };
}

const verdict = (outcome: Verdict['outcome'], observed = '31 of 100 (31%)'): Verdict => ({ outcome, claim: '30% ± 5% go to v2', observed, samples: 100, explanation: '', interval: { lo: 0.27, hi: 0.35, confidence: 0.95, unit: 'share' } });

describe('the gate between two runs', () => {
  it('passes identical runs: every load at p50, p90 and p99 with its interval, unchanged', () => {
    const r = gateRuns(record(5), record(5));
    expect(r.code).toBe(0);
    expect(r.figures.filter((f) => f.kind === 'latency').map((f) => f.what.split(' (')[0])).toEqual([
      'Traffic is split #1 p50', 'Traffic is split #1 p90', 'Traffic is split #1 p99',
      'A share is aborted #1 p50', 'A share is aborted #1 p90', 'A share is aborted #1 p99',
      'Retries hide a failure #1 p50', 'Retries hide a failure #1 p90', 'Retries hide a failure #1 p99',
    ]);
    expect(r.figures.every((f) => f.change === 0 && f.baseline.lo !== null && f.candidate.hi !== null)).toBe(true);
  });

  it('passes run-to-run noise: the same distribution drawn again', () => {
    for (const seed of [6, 7, 8, 9]) expect(gateRuns(record(5), record(seed)).regressions).toEqual([]);
  });

  it('fails a 30% latency regression at each quantile, and names the figure', () => {
    const r = gateRuns(record(5), record(6, 1.3));
    expect(r.code).toBe(1);
    expect(r.regressions).toContainEqual(expect.stringMatching(/^latency: Traffic is split #1 p99 .* \(\+\d+\.\d%\)$/));
    expect(r.regressions).toContainEqual(expect.stringMatching(/^latency: Traffic is split #1 p50 /));
  });

  it('does not fail a significant change under its threshold', () => {
    const r = gateRuns(record(5), record(6, 1.3), { ...GATE_DEFAULTS, latency: 0.5 });
    expect(r.figures.some((f) => f.significant)).toBe(true);
    expect(r.code).toBe(0);
  });

  it('fails added latency beyond its threshold in ms, and not within it', () => {
    const worse = gateRuns(record(5, 1, [overhead()]), record(5, 1, [overhead({ added: 1.5 })]));
    expect(worse.code).toBe(1);
    expect(worse.regressions).toEqual([expect.stringMatching(/^added latency: Added latency at Istio's conditions #1 added p50 \(reviews\): 0.7 \[0.65, 0.75\] -> 1.5 \[1.45, 1.55\] ms \(\+0.8 ms\)$/)]);
    expect(gateRuns(record(5, 1, [overhead()]), record(5, 1, [overhead({ added: 1.0 })])).code).toBe(0);
  });

  it('matches sidecars across runs by role (pod names differ) and fails a CPU regression; memory has no interval and never decides', () => {
    const r = gateRuns(record(5, 1, [overhead()]), record(5, 1, [overhead({ cpu: 0.5, memoryMb: 60, pods: ['k6-standby-7', 'reviews-v1-5f6c7d8b9-qq2zt'] })]));
    expect(r.regressions).toEqual([
      expect.stringMatching(/^sidecar CPU: .* sidecar k6-standby: 0.34 \[0.33, 0.35\] -> 0.5 \[0.49, 0.51\] vCPU per 1000 rps \(\+47.1%\)$/),
      expect.stringMatching(/^sidecar CPU: .* sidecar reviews-v1: /),
    ]);
    const memory = r.figures.filter((f) => f.kind === 'sidecar memory');
    expect(memory.map((f) => [f.significant, f.beyondThreshold, f.regression])).toEqual([[null, true, false], [null, true, false]]);
    expect(sidecarRole('loadclient-v1-0')).toBe('loadclient-v1');
  });

  it('fails a slower policy convergence (median interval), and passes the same', () => {
    const a = { ...record(5), convergenceMs: [2, 3, 2.5, 2.2, 3.1, 2.8, 2.4, 2.9, 2.6, 3.3] };
    expect(gateRuns(a, { ...record(5), convergenceMs: [2.1, 3, 2.4, 2.2, 3, 2.7, 2.5, 2.9, 2.6, 3.2] }).code).toBe(0);
    const slow = gateRuns(a, { ...record(5), convergenceMs: a.convergenceMs.map((x) => x * 3) });
    expect(slow.regressions).toEqual([expect.stringMatching(/^convergence: policy convergence \(median of 10 \/ 10 changes\): /)]);
  });

  it('fails a claim that held and no longer does; a claim that now holds is an improvement', () => {
    const a = record(5);
    const b = record(5);
    a.scenarios[0]!.verdicts = [verdict('PASSED')];
    b.scenarios[0]!.verdicts = [verdict('FAILED', '45 of 100 (45%)')];
    const r = gateRuns(a, b);
    expect(r.code).toBe(1);
    expect(r.regressions).toEqual(['verdict: Traffic is split: "30% ± 5% go to v2" PASSED -> FAILED (observed 45 of 100 (45%))']);
    expect(gateRuns(b, a).verdicts.map((v) => v.change)).toEqual(['improved']);
  });

  it('allows for a stall: one stall in a short load is no regression, and a minute of load 30% slower still is', () => {
    // 200 requests in 0.5 s; in the candidate one 100 ms stall catches 32 in a row (measured on the node: p90 10 -> 82 ms).
    const short = (seed: number, stalled: number) => {
      const xs = latencies(seed, 200).map((x, i) => (i >= 100 && i < 100 + stalled ? 80_000 + x : x));
      const r = record(seed);
      r.histograms = [{ scenario: 'Traffic is split', service: 'reviews', engine: 'embedded', hdr: hdr(xs), durationMs: 500 }];
      return r;
    };
    const stalled = gateRuns(short(5, 0), short(6, 32));
    expect(stalled.code).toBe(0);
    expect(stalled.figures[1]).toMatchObject({ id: 'Traffic is split #1 p90', what: 'Traffic is split #1 p90 (reviews; 200 (5 independent) / 200 (5 independent) samples)', regression: false });
    // As 200 independent draws the same stall is a "regression": what the allowance is for.
    expect(gateRuns(short(5, 0), short(6, 32), { ...GATE_DEFAULTS, stallMs: 0 }).code).toBe(1);
    const minute = (seed: number, scale: number) => {
      const r = record(seed);
      r.histograms = [{ scenario: 'Traffic is split', service: 'reviews', engine: 'embedded', hdr: hdr(latencies(seed, 12_000, scale)), durationMs: 60_000 }];
      return r;
    };
    expect(gateRuns(minute(5, 1), minute(6, 1)).code).toBe(0);
    expect(gateRuns(minute(5, 1), minute(6, 1.3)).regressions).toContainEqual(expect.stringMatching(/^latency: Traffic is split #1 p50 \(reviews; 12000 \(600 independent\)/));
  });

  it('with a second baseline run, regresses only what is worse than both: run-to-run movement is noise', () => {
    const slower = record(6, 1.3);
    // The baseline's second run was itself 30% slower: the candidate is within what the baseline does.
    expect(gateRuns(record(5), slower, GATE_DEFAULTS, undefined, record(7, 1.3))).toMatchObject({ code: 0, baselineAgain: { runId: 'run-7' } });
    const r = gateRuns(record(5), slower, GATE_DEFAULTS, undefined, record(7));
    expect(r.code).toBe(1);
    expect(r.regressions).toContainEqual(expect.stringMatching(/^latency: Traffic is split #1 p99 .*; against the second baseline .*\)$/));
    expect(gateMarkdown(r)).toMatch(/\| figure \| what \| baseline \| baseline again \| candidate \|/);
    // A claim that failed in one baseline run already is not the candidate's regression.
    const [a, again, b] = [record(5), record(5), record(5)];
    a.scenarios[0]!.verdicts = [verdict('PASSED')];
    again.scenarios[0]!.verdicts = [verdict('FAILED', '38 of 100 (38%)')];
    b.scenarios[0]!.verdicts = [verdict('FAILED', '45 of 100 (45%)')];
    expect(gateRuns(a, b, GATE_DEFAULTS, undefined, again)).toMatchObject({ code: 0, verdicts: [{ change: 'changed', again: 'FAILED' }] });
    const fewer = record(7);
    fewer.scenarios.pop();
    expect(gateRuns(record(5), record(6), GATE_DEFAULTS, undefined, fewer).unusable).toEqual(['against the second baseline: scenarios only in the baseline: Retries hide a failure']);
  });

  it('refuses runs it cannot gate (exit 2): other scenarios, other engines, a scenario left undecided', () => {
    const fewer = record(5);
    fewer.scenarios.pop();
    expect(gateRuns(record(5), fewer)).toMatchObject({ code: 2, unusable: ['scenarios only in the baseline: Retries hide a failure'] });
    expect(gateRuns(record(5), { ...record(5), engine: 'k6' }).unusable).toEqual([expect.stringMatching(/^load engines differ \(baseline embedded, candidate k6\)/)]);
    const undecided = record(5);
    undecided.scenarios[1]!.outcome = 'INCONCLUSIVE';
    expect(gateRuns(record(5), undecided).unusable).toEqual(['the candidate\'s "A share is aborted" is INCONCLUSIVE: a gate needs it decided (rerun it)']);
  });

  it('writes Markdown for a CI page and an HTML page with the runs side by side, both opening with the gate\'s word', () => {
    const r = gateRuns(record(5, 1, [overhead()]), record(6, 1.3, [overhead()]));
    const md = gateMarkdown(r);
    expect(md).toMatch(/^# meshcheck gate\n\nBaseline run-5 \(reference, local, embedded\) -> candidate run-6 /);
    expect(md).toContain('**REGRESSION: ');
    expect(md).toMatch(/\| latency \| Traffic is split #1 p99 .* \| REGRESSION \|/);
    const upgraded = gateRuns({ ...record(5), targetInfo: { controlPlane: [{ workload: 'Deployment istio-system/istiod', images: ['meshcheck.local/istio-pilot:1.30-dev-9739e10eb9d7'] }] } }, record(6));
    expect(gateMarkdown(upgraded)).toMatch(/^Baseline run-5 \(reference, local, embedded; control plane meshcheck\.local\/istio-pilot:1\.30-dev-9739e10eb9d7\) -> candidate run-6 \(reference, local, embedded\);/m);
    const html = gateHtml(r);
    expect(html).toContain('<td class="bad">REGRESSION</td>');
    expect(html).toContain('<b>run-5 (reference, local, embedded)</b> against candidate <b>run-6 (reference, local, embedded)</b>');
  });
});
