import type { HealthFigures } from '../../src/load/health.js';

/**
 * The figures of a load that kept up on a quiet machine: every one inside its health bound. Tests
 * spread it and change the figures they are about.
 */
export const QUIET_LOAD: HealthFigures = {
  askedRps: 500,
  sentRps: 499.8,
  achievedRps: 499.1,
  sendLagMs: { p50: 0.1, p99: 0.9, max: 3 },
  dropped: 0,
  droppedShare: 0,
  eventLoopDelayMs: { p50: 0.1, p99: 1.5, max: 4 },
  machine: { cores: 2, otherCpuCores: 0.02, stealCores: 0.01, meshcheckCpuCores: 0.6, cpuPressure: 0.03, meshcheckCpuWaitMs: 40, measured: true },
  cpuWaitMsPerRequest: 0.08,
};
