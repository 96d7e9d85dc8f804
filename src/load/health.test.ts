import { classifyHealth, describeHealth, HEALTH_BOUNDS, quantiles, type HealthFigures } from './health.js';
import { machineLoad } from './machine-load.js';
import { generatorFigures } from './result.js';
import { profile } from './profile.js';
import { QUIET_LOAD } from '../../test/helpers/load-health.js';


describe('load health', () => {
  it('calls a load healthy when every figure is inside its bound', () => {
    const h = classifyHealth(QUIET_LOAD);
    expect(h).toMatchObject({ healthy: true, reasons: [] });
    expect(describeHealth(h)).toMatch(/asked 500 rps, kept 500 arrivals\/s/);
  });

  it.each([
    ['send lag', { sendLagMs: { p50: 4, p99: 14.2, max: 40 } }, /send lag p99 14\.2 ms > 10 ms/],
    ['a schedule not kept', { sentRps: 320 }, /kept 320 of 500 arrivals per second/],
    ['dropped arrivals', { dropped: 1867, droppedShare: 0.62 }, /1867 arrivals dropped \(62\.0% > 1%\)/],
    ['event-loop delay', { eventLoopDelayMs: { p50: 3, p99: 35, max: 80 } }, /event-loop delay p99 35\.0 ms > 20 ms/],
    ['a busy machine', { machine: { cores: 2, otherCpuCores: 1.05, stealCores: 0, meshcheckCpuCores: 0.98, cpuPressure: 0.61, meshcheckCpuWaitMs: 2400, measured: true }, cpuWaitMsPerRequest: 2.4 }, /machine busy: tasks waited for a CPU 61% of the time .* other processes used 1\.05 of 2 cores, meshcheck 0\.98, and meshcheck's processes waited 2\.40 ms for a CPU per request/],
    ['a host giving the CPUs to other guests', { machine: { cores: 2, otherCpuCores: 0, stealCores: 0.6, meshcheckCpuCores: 0.5, cpuPressure: 0.1, meshcheckCpuWaitMs: 10, measured: true } }, /machine busy: the host took 0\.60 of 2 cores for other guests \(steal > 20%\)/],
  ])('is not healthy with %s, and says why with the figure and bound', (_what, change, reason) => {
    const h = classifyHealth({ ...QUIET_LOAD, ...change } as HealthFigures);
    expect(h.healthy).toBe(false);
    expect(h.reasons).toHaveLength(1);
    expect(h.reasons[0]).toMatch(reason);
  });

  it('does not blame the machine for another process alone when nothing waited for a CPU', () => {
    // One core kept busy by another process, the other free: the load still had a core to itself.
    expect(classifyHealth({ ...QUIET_LOAD, machine: { ...QUIET_LOAD.machine, otherCpuCores: 1, cpuPressure: 0.2 } }).healthy).toBe(true);
  });

  it('has documented bounds', () => {
    expect(HEALTH_BOUNDS).toEqual({ sendLagP99Ms: 10, sentRateShare: 0.95, droppedShare: 0.01, eventLoopDelayP99Ms: 20, cpuPressure: 0.5, stealShare: 0.2 });
  });

  it('reads the generator figures of a run (arrivals per second over the sending window)', () => {
    const g = generatorFigures(profile({ service: 's', rps: 100, requests: 101 }), { arrivals: 101, dropped: 1, completed: 100, sendWindowMs: 1250, durationMs: 1300, lagUs: [100, 200, 300, 20_000] });
    expect(g).toMatchObject({ askedRps: 100, sentRps: 80, achievedRps: 76.9, dropped: 1 });
    expect(g.sendLagMs).toEqual({ p50: 0.2, p99: 20, max: 20 });
    expect(g.droppedShare).toBeCloseTo(1 / 101, 6);
  });

  it('has no send-lag figure for a burst, where every request is due at once', () => {
    expect(generatorFigures(profile({ service: 's', requests: 50 }), { arrivals: 50, dropped: 0, completed: 50, sendWindowMs: 5, durationMs: 60, lagUs: [1, 2] }).sendLagMs).toBeNull();
  });

  it('splits the machine CPU into ours and everyone else', () => {
    const m = machineLoad(
      { atMs: 0, busyTicks: 1000, stealTicks: 50, ourTicks: 400, ourWaitNs: 1e9, pressureUs: 0 },
      { atMs: 2000, busyTicks: 1300, stealTicks: 90, ourTicks: 500, ourWaitNs: 1.25e9, pressureUs: 500_000 },
    );
    expect(m).toMatchObject({ otherCpuCores: 1, stealCores: 0.2, meshcheckCpuCores: 0.5, cpuPressure: 0.25, meshcheckCpuWaitMs: 250, measured: true });
  });

  it('quantiles of a small set', () => {
    expect(quantiles([5, 1, 3, 2, 4])).toEqual({ p50: 3, p99: 5, max: 5 });
    expect(quantiles([])).toBeNull();
  });
});
