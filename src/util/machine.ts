import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import type { Machine } from '../reports/run-record.js';

/** The machine a run ran on: figures only compare on like machines. */
export function machine(): Machine {
  return { cores: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, os: `${platform()} ${release()}` };
}
