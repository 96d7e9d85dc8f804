import * as hdr from 'hdr-histogram-js';
import type { LoadProfile, Sample } from './profile.js';

const HISTOGRAM = { lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 } as const;

export function newHistogram(): hdr.Histogram {
  return hdr.build({ ...HISTOGRAM, bitBucketSize: 64, useWebAssembly: false });
}

/** The normalised outcome of a load run, whatever engine produced it. */
export interface LoadResult {
  engine: 'embedded' | 'k6';
  profile: LoadProfile;
  startedAt: number;
  durationMs: number;
  /** Requests sent (arrivals that found capacity). */
  sent: number;
  /** Arrivals dropped because maxInFlight requests were already outstanding. */
  dropped: number;
  /** Stopped before the budget because every sequential verdict was decided. */
  stoppedEarly: boolean;
  samples: Sample[];
  /** Latency (microseconds from intended send) of every response. */
  histogram: hdr.Histogram;
  /** Requests completed in each whole second since the start, with errors (non-2xx or no response). */
  timeline: { second: number; completed: number; errors: number }[];
  /** k6 only: its exit codes (one per process) and whether a threshold was crossed (exit 99). */
  k6?: { exitCodes: (number | null)[]; thresholdsCrossed: boolean };
}

export function countBy<T extends string | number>(samples: Sample[], key: (s: Sample) => T | undefined): Record<string, number> {
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

/** A short, serialisable summary (for attachments, the run record and the progress line). */
export function summarize(r: LoadResult): Record<string, unknown> {
  const h = r.histogram;
  const ms = (us: number) => Number((us / 1000).toFixed(3));
  return {
    engine: r.engine, service: r.profile.service, caller: r.profile.caller ?? 'loadclient', targetRps: r.profile.rps ?? null,
    budget: r.profile.requests, sent: r.sent, completed: r.samples.length, dropped: r.dropped, stoppedEarly: r.stoppedEarly,
    durationMs: Math.round(r.durationMs), achievedRps: Number(achievedRps(r).toFixed(1)),
    statuses: countBy(r.samples, (s) => s.status), versions: countBy(r.samples, (s) => s.version),
    latencyMs: h.totalCount ? { p50: ms(h.getValueAtPercentile(50)), p90: ms(h.getValueAtPercentile(90)), p99: ms(h.getValueAtPercentile(99)), max: ms(h.maxValue) } : null,
    timeline: r.timeline,
  };
}
