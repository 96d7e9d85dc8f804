import * as hdr from 'hdr-histogram-js';
import type { LoadProfile, Sample } from './profile.js';
import { quantiles, type LoadHealth } from './health.js';

const HISTOGRAM = { lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 } as const;

export function newHistogram(): hdr.Histogram {
  return hdr.build({ ...HISTOGRAM, bitBucketSize: 64, useWebAssembly: false });
}

/** The normalised outcome of a load run, whatever engine produced it. */
export interface LoadResult {
  engine: 'embedded' | 'k6' | 'proxyless-grpc';
  profile: LoadProfile;
  startedAt: number;
  durationMs: number;
  /** Requests sent (arrivals that found capacity). */
  sent: number;
  /** Arrivals dropped because maxInFlight requests were already outstanding. */
  dropped: number;
  /** Stopped before the budget because every sequential verdict was decided. */
  stoppedEarly: boolean;
  /** Every response, in the order the requests were sent. */
  samples: Sample[];
  /** Latency (microseconds from intended send) of every response. */
  histogram: hdr.Histogram;
  /** Requests completed in each whole second since the start, with errors (non-2xx or no response). */
  timeline: { second: number; completed: number; errors: number }[];
  /**
   * k6 only: its exit codes (one per process), whether a threshold was crossed (exit 99), and how many
   * of the dropped arrivals k6 counted itself (the rest it never started).
   */
  k6?: { exitCodes: (number | null)[]; thresholdsCrossed: boolean; droppedCounted: number };
  /** The engine's own figures: did it keep the schedule it was asked for. */
  generator: GeneratorFigures;
  /**
   * Generated in the cluster (k6 Jobs of the kube target), not by meshcheck's process: meshcheck's
   * event loop did not send it, so its delay says nothing about the load.
   */
  inCluster?: boolean;
  /** Set by observeLoad: the generator's figures with the machine's, classified. */
  health?: LoadHealth;
}

export type GeneratorFigures = Pick<LoadHealth, 'askedRps' | 'sentRps' | 'achievedRps' | 'sendLagMs' | 'dropped' | 'droppedShare'>;

/**
 * The generator figures of a run. `sendWindowMs` is how long the engine took to work through the
 * arrivals it was asked for (sent or dropped); `lagUs` the per-request send lag, if the engine knows it (not for a
 * burst, where every request is due at once).
 */
export function generatorFigures(
  p: LoadProfile,
  o: { arrivals: number; dropped: number; completed: number; sendWindowMs: number; durationMs: number; lagUs?: ArrayLike<number> },
): GeneratorFigures {
  const lag = o.lagUs && p.rps ? quantiles(Array.from(o.lagUs, (x) => x / 1000)) : null;
  // The first arrival is due at 0, so n arrivals span (n - 1) intervals.
  const sentRps = p.rps && o.arrivals > 1 && o.sendWindowMs > 0 ? Number((((o.arrivals - 1) * 1000) / o.sendWindowMs).toFixed(1)) : null;
  return {
    askedRps: p.rps ?? null,
    sentRps,
    achievedRps: o.durationMs > 0 ? Number(((o.completed * 1000) / o.durationMs).toFixed(1)) : 0,
    sendLagMs: lag,
    dropped: o.dropped,
    droppedShare: o.arrivals > 0 ? o.dropped / o.arrivals : 0,
  };
}

export function countBy<T extends string | number>(samples: readonly Sample[], key: (s: Sample) => T | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    const k = key(s);
    if (k !== undefined) out[String(k)] = (out[String(k)] ?? 0) + 1;
  }
  return out;
}

export function achievedRps(r: LoadResult): number {
  return r.durationMs > 0 ? (r.samples.length * 1000) / r.durationMs : 0;
}

/** Why calls got no answer, as the load generator said it: the five most frequent, with their counts. */
function errorKinds(samples: readonly Sample[]): { errors?: Record<string, number> } {
  const all = Object.entries(countBy(samples, (s) => s.error)).sort((a, b) => b[1] - a[1]);
  return all.length ? { errors: Object.fromEntries(all.slice(0, 5)) } : {};
}

/** A short, serialisable summary (for attachments, the run record and the progress line). */
export function summarize(r: LoadResult): Record<string, unknown> {
  const h = r.histogram;
  const ms = (us: number) => Number((us / 1000).toFixed(3));
  return {
    engine: r.engine, service: r.profile.service, caller: r.profile.caller ?? 'loadclient', targetRps: r.profile.rps ?? null,
    budget: r.profile.requests, sent: r.sent, completed: r.samples.length, dropped: r.dropped, stoppedEarly: r.stoppedEarly,
    durationMs: Math.round(r.durationMs), achievedRps: Number(achievedRps(r).toFixed(1)),
    statuses: countBy(r.samples, (s) => s.status), versions: countBy(r.samples, (s) => s.version),
    ...(r.samples.some((s) => s.grpc !== undefined) ? { grpc: countBy(r.samples, (s) => s.grpc) } : {}),
    ...errorKinds(r.samples),
    latencyMs: h.totalCount ? { p50: ms(h.getValueAtPercentile(50)), p90: ms(h.getValueAtPercentile(90)), p99: ms(h.getValueAtPercentile(99)), max: ms(h.maxValue) } : null,
    timeline: r.timeline,
    ...(r.health ? { health: r.health } : {}),
  };
}
