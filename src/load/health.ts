import type { MachineLoad } from './machine-load.js';

/**
 * Whether a load ran as asked: the generator's own figures and how busy the machine was. A load
 * that is not healthy cannot make a latency, overhead or rate claim FAILED, because the deviation
 * may be meshcheck's own lag rather than the mesh's (docs/adr/0007-honest-verdicts-on-a-busy-machine.md).
 */
export interface LoadHealth {
  /** Asked arrival rate; null for a concurrent burst. */
  askedRps: number | null;
  /** Arrivals per second over the sending window (sent or dropped: the schedule the engine kept). */
  sentRps: number | null;
  /** Responses per second over the whole load. */
  achievedRps: number;
  /** Actual minus intended send time of each request; null where the engine cannot tell (k6). */
  sendLagMs: Quantiles | null;
  dropped: number;
  /** Dropped arrivals as a share of all arrivals. */
  droppedShare: number;
  /** How late the engine's event loop ran timers during the load (meshcheck's process). */
  eventLoopDelayMs: Quantiles | null;
  machine: MachineLoad;
  /** meshcheck's processes' run-queue wait over the load divided by the responses: what the machine added per request. */
  cpuWaitMsPerRequest: number | null;
  healthy: boolean;
  /** Why not, each with its figure and bound, e.g. "send lag p99 14.2 ms > 10 ms". */
  reasons: string[];
}

export interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}

/**
 * The bounds of a healthy load, each a property of meshcheck rather than of the mesh:
 * - send lag p99 <= 10 ms: a request sent later than intended is charged the lag as latency;
 *   10 ms is a tenth of the smallest latency bound the bundled features state (100 ms).
 * - the schedule kept: arrivals per second >= 95% of the asked rate.
 * - dropped arrivals <= 1%: an open model drops an arrival that finds every slot busy.
 * - event-loop delay p99 <= 20 ms: the engine was too busy to read responses on time.
 * - CPU pressure <= 50%: beyond it, for more than half of the load some runnable task had no CPU,
 *   so the processes on the path (sidecars, workloads, the engine) queued for one; the figures say
 *   whose the CPU was (other processes', meshcheck's) and how long meshcheck's own processes
 *   waited per request.
 * - steal <= 20% of the cores: the hypervisor ran other guests on this machine's CPUs for more
 *   than a fifth of their time, which no figure inside the machine shows as waiting.
 */
export const HEALTH_BOUNDS = {
  sendLagP99Ms: 10,
  sentRateShare: 0.95,
  droppedShare: 0.01,
  eventLoopDelayP99Ms: 20,
  cpuPressure: 0.5,
  stealShare: 0.2,
} as const;

export type HealthFigures = Omit<LoadHealth, 'healthy' | 'reasons'>;

/** Classifies a load's figures against HEALTH_BOUNDS. Pure. */
export function classifyHealth(f: HealthFigures, bounds = HEALTH_BOUNDS): LoadHealth {
  const reasons: string[] = [];
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  if (f.sendLagMs && f.sendLagMs.p99 > bounds.sendLagP99Ms) reasons.push(`send lag p99 ${ms(f.sendLagMs.p99)} > ${bounds.sendLagP99Ms} ms (max ${ms(f.sendLagMs.max)})`);
  if (f.askedRps && f.sentRps !== null && f.sentRps < bounds.sentRateShare * f.askedRps) reasons.push(`kept ${f.sentRps.toFixed(0)} of ${f.askedRps} arrivals per second (< ${bounds.sentRateShare * 100}%)`);
  if (f.droppedShare > bounds.droppedShare) reasons.push(`${f.dropped} arrivals dropped (${(f.droppedShare * 100).toFixed(1)}% > ${bounds.droppedShare * 100}%)`);
  if (f.eventLoopDelayMs && f.eventLoopDelayMs.p99 > bounds.eventLoopDelayP99Ms) reasons.push(`engine event-loop delay p99 ${ms(f.eventLoopDelayMs.p99)} > ${bounds.eventLoopDelayP99Ms} ms`);
  const m = f.machine;
  if (m.cpuPressure !== null && m.cpuPressure > bounds.cpuPressure) {
    const wait = f.cpuWaitMsPerRequest === null ? '' : `, and meshcheck's processes waited ${f.cpuWaitMsPerRequest.toFixed(2)} ms for a CPU per request`;
    reasons.push(`machine busy: tasks waited for a CPU ${(m.cpuPressure * 100).toFixed(0)}% of the time (> ${bounds.cpuPressure * 100}%); other processes used ${m.otherCpuCores.toFixed(2)} of ${m.cores} cores, meshcheck ${m.meshcheckCpuCores.toFixed(2)}${wait}`);
  }
  if (m.measured && m.stealCores > bounds.stealShare * m.cores) {
    reasons.push(`machine busy: the host took ${m.stealCores.toFixed(2)} of ${m.cores} cores for other guests (steal > ${bounds.stealShare * 100}%)`);
  }
  return { ...f, healthy: reasons.length === 0, reasons };
}

/** One line of figures, for explanations and the progress summary. */
export function describeHealth(h: LoadHealth): string {
  const q = (x: Quantiles | null) => (x ? `p50 ${x.p50.toFixed(2)} / p99 ${x.p99.toFixed(2)} / max ${x.max.toFixed(1)} ms` : 'not measured');
  const rate = h.askedRps ? `asked ${h.askedRps} rps, kept ${h.sentRps?.toFixed(0) ?? '?'} arrivals/s, ${h.achievedRps.toFixed(0)} responses/s` : `burst, ${h.achievedRps.toFixed(0)} responses/s`;
  const m = h.machine;
  const wait = h.cpuWaitMsPerRequest === null ? '' : `, meshcheck's CPU wait ${h.cpuWaitMsPerRequest.toFixed(2)} ms per request`;
  const machine = m.measured ? `other processes ${m.otherCpuCores.toFixed(2)} of ${m.cores} cores, steal ${m.stealCores.toFixed(2)}, meshcheck ${m.meshcheckCpuCores.toFixed(2)}, CPU pressure ${m.cpuPressure === null ? 'n/a' : `${(m.cpuPressure * 100).toFixed(0)}%`}${wait}` : 'machine load not measured';
  return `${rate}; send lag ${q(h.sendLagMs)}; ${h.dropped} dropped; event-loop delay ${q(h.eventLoopDelayMs)}; ${machine}`;
}

export function quantiles(xs: ArrayLike<number>): Quantiles | null {
  if (xs.length === 0) return null;
  const s = Float64Array.from(xs).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(s[s.length - 1]!) };
}

export function round(x: number): number {
  return Number(x.toFixed(3));
}
