import { monitorEventLoopDelay } from 'node:perf_hooks';
import { classifyHealth, round } from './health.js';
import { cpuSnapshot, machineLoad } from './machine-load.js';
import type { LoadResult } from './result.js';

/** The event-loop monitor's resolution: what a timer interval exceeds it by is the loop's delay. */
const LOOP_RESOLUTION_MS = 10;

/**
 * Runs a load and observes meshcheck around it: the machine's CPU (ours vs everyone else's) and the
 * event loop of this process. `groups` are the process groups whose CPU counts as meshcheck's.
 */
export async function observeLoad(groups: readonly number[], run: () => Promise<LoadResult>): Promise<LoadResult> {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const before = cpuSnapshot(groups);
  let result: LoadResult;
  try {
    result = await run();
  } finally {
    loop.disable();
  }
  const machine = machineLoad(before, cpuSnapshot(groups));
  // The monitor records each timer interval; what exceeds the resolution is the delay.
  const delay = (p: number) => Math.max(0, loop.percentile(p) / 1e6 - LOOP_RESOLUTION_MS);
  // A load generated in the cluster did not run on this event loop.
  const measured = loop.count > 0 && !result.inCluster;
  const eventLoopDelayMs = measured ? { p50: round(delay(50)), p99: round(delay(99)), max: round(Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS)) } : null;
  const completed = result.samples.length;
  const cpuWaitMsPerRequest = machine.measured && completed > 0 ? round(machine.meshcheckCpuWaitMs / completed) : null;
  result.health = classifyHealth({ ...result.generator, eventLoopDelayMs, machine, cpuWaitMsPerRequest });
  return result;
}
