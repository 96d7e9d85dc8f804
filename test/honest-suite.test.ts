import { classifyHealth } from '../src/load/health.js';
import { QUIET_LOAD } from './helpers/load-health.js';
import { honestSuite, type SuiteRecord } from './helpers/honest.js';

/** The suite tests' own check, on records made here: what it lets through and what it does not. */
const { machine } = QUIET_LOAD;
const stolen = classifyHealth({ ...QUIET_LOAD, sendLagMs: { p50: 5, p99: 40, max: 90 }, machine: { ...machine, stealCores: 0.78 } });
const pressed = classifyHealth({ ...QUIET_LOAD, sendLagMs: { p50: 5, p99: 40, max: 90 }, machine: { ...machine, otherCpuCores: 1, cpuPressure: 0.6 } });

function record(passed: number, inconclusive: { health: typeof stolen; n: number }[], failed = 0): SuiteRecord {
  const scenario = (i: number, outcome: string, health = classifyHealth(QUIET_LOAD)) => ({
    name: `s${i}`, capability: 'x', outcome,
    verdicts: [{ outcome, samples: 100, explanation: outcome === 'INCONCLUSIVE' ? 'load generator behind / machine busy: ...' : 'ok' }],
    loads: [{ health }],
  });
  const scenarios = Array.from({ length: passed }, (_, i) => scenario(i, 'PASSED'));
  for (const g of inconclusive) for (let i = 0; i < g.n; i++) scenarios.push(scenario(scenarios.length, 'INCONCLUSIVE', g.health));
  for (let i = 0; i < failed; i++) scenarios.push(scenario(scenarios.length, 'FAILED'));
  return { schema: 'meshcheck.run/v1', engine: 'embedded', scenarios, histograms: [], convergenceMs: [], overhead: [] };
}

describe('honestSuite', () => {
  it('the figures used here are what the health check says about steal and CPU pressure', () => {
    expect(stolen.reasons.some((r) => r.startsWith('machine busy: the host took 0.78 of 2 cores'))).toBe(true);
    expect(pressed.reasons.some((r) => r.startsWith('machine busy: tasks waited for a CPU'))).toBe(true);
  });

  it('takes 13 of 15 PASSED with 2 INCONCLUSIVE for the machine', () => {
    expect(honestSuite(record(13, [{ health: pressed, n: 2 }]), 13).problems).toEqual([]);
  });

  it('takes 12 of 15 when the third INCONCLUSIVE load measured the host stealing cores', () => {
    expect(honestSuite(record(12, [{ health: pressed, n: 2 }, { health: stolen, n: 1 }]), 13).problems).toEqual([]);
  });

  it('does not take 12 of 15 when the machine was busy only inside (a process beside meshcheck, no steal)', () => {
    expect(honestSuite(record(12, [{ health: pressed, n: 3 }]), 13).problems).toEqual([expect.stringMatching(/only 12 of 15 scenarios PASSED \(at least 13 expected/)]);
  });

  it('never goes below its floor, however much the host took', () => {
    expect(honestSuite(record(9, [{ health: stolen, n: 6 }]), 13).problems).toEqual([expect.stringMatching(/only 9 of 15 scenarios PASSED \(at least 10 expected/)]);
    expect(honestSuite(record(0, [{ health: stolen, n: 15 }]), 13).problems).toHaveLength(1);
  });

  it('does not take a FAILED scenario, nor an INCONCLUSIVE one without a machine or budget reason', () => {
    expect(honestSuite(record(14, [], 1), 13).problems).toEqual([expect.stringMatching(/^s14: FAILED/)]);
    const r = record(14, [{ health: stolen, n: 1 }]);
    r.scenarios[14]!.verdicts[0]!.explanation = 'the split was off';
    expect(honestSuite(r, 13).problems).toEqual([expect.stringMatching(/INCONCLUSIVE without a machine or budget reason/)]);
  });
});
