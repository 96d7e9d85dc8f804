import type { Verdict } from '../verdicts/outcome.js';
import { agreement } from './agreement.js';
import type { RunRecord, ScenarioRecord } from './run-record.js';

const share = (claim: string, lo: number, hi: number, outcome: Verdict['outcome'] = 'PASSED'): Verdict =>
  ({ outcome, claim, observed: `${(lo + hi) / 2}%`, samples: 800, interval: { lo, hi, confidence: 0.9965, unit: '%' }, explanation: '' });
const latency = (lo: number, hi: number): Verdict => ({ outcome: 'PASSED', claim: 'the p50 latency is below 200ms', observed: '', samples: 20, interval: { lo, hi, confidence: 0.9965, unit: 'ms' }, explanation: '' });
const scenario = (name: string, outcome: ScenarioRecord['outcome'], verdicts: Verdict[], o: Partial<ScenarioRecord> = {}): ScenarioRecord =>
  ({ name, feature: 'f', capability: '', outcome, verdicts, loads: [], convergenceMs: [], ...o });
const run = (mesh: string, scenarios: ScenarioRecord[]) => ({ mesh, scenarios }) as unknown as RunRecord;

test('agreeing data planes: overlapping share intervals, the same outcomes, latencies not compared', () => {
  const a = run('reference', [scenario('split', 'PASSED', [share('v2 gets 20%', 16, 24), latency(0.2, 0.4)]), scenario('wrong', 'FAILED', [share('v2 gets 50%', 16, 24, 'FAILED')])]);
  const b = run('istio', [scenario('split', 'PASSED', [share('v2 gets 20%', 18, 26), latency(3, 9)]), scenario('wrong', 'FAILED', [share('v2 gets 50%', 17, 25, 'FAILED')])]);
  expect(agreement(a, b)).toEqual({ compared: ['split', 'wrong'], disagreements: [], notComparable: [], unmatched: [] });
});

test('a different outcome, or share intervals that do not overlap, is a disagreement; what one side did not decide is not comparable, with its reason', () => {
  const a = run('reference', [
    scenario('split', 'PASSED', [share('v2 gets 20%', 16, 24)]),
    scenario('ejected', 'PASSED', []),
    scenario('metrics', 'PASSED', []),
    scenario('only here', 'PASSED', []),
  ]);
  const b = run('istio', [
    scenario('split', 'PASSED', [share('v2 gets 20%', 24.5, 30)]),
    scenario('ejected', 'FAILED', []),
    scenario('metrics', 'NOT_SUPPORTED', [{ outcome: 'NOT_SUPPORTED', claim: 'the mesh reports', observed: 'not checked', samples: 0, explanation: 'no Prometheus' }]),
  ]);
  const r = agreement(a, b);
  expect(r.compared).toEqual(['split', 'ejected']);
  expect(r.disagreements).toEqual([
    { scenario: 'split', what: expect.stringMatching(/^"v2 gets 20%": reference \[16\.0, 24\.0\]% .* istio \[24\.5, 30\.0\]% .*the intervals do not overlap$/) },
    { scenario: 'ejected', what: 'outcome: reference PASSED, istio FAILED' },
  ]);
  expect(r.notComparable).toEqual([{ scenario: 'metrics', side: 'istio', why: 'NOT_SUPPORTED: no Prometheus' }]);
  expect(r.unmatched).toEqual(['only here']);
});

test("a share both decided compares even in a scenario one side did not decide as a whole", () => {
  const notSupported: Verdict = { outcome: 'NOT_SUPPORTED', claim: 'the mesh reports', observed: 'not checked', samples: 0, explanation: 'no Prometheus' };
  const a = run('reference', [scenario('abort', 'PASSED', [share('30% have 503', 27, 33)])]);
  const b = run('istio', [scenario('abort', 'NOT_SUPPORTED', [share('30% have 503', 34, 40), notSupported])]);
  const r = agreement(a, b);
  expect(r.compared).toEqual([]);
  expect(r.notComparable).toEqual([{ scenario: 'abort', side: 'istio', why: 'NOT_SUPPORTED: no Prometheus' }]);
  expect(r.disagreements).toEqual([{ scenario: 'abort', what: expect.stringContaining('the intervals do not overlap') }]);
});
