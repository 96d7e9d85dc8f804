import type { Sample } from './profile.js';

/**
 * How the responses of a data plane are read: what counts as "status N", how an outcome is put in
 * words, what a circuit breaker's rejection and an injected fault look like. HTTP by default; a
 * gRPC data plane (proxyless gRPC) supplies its own (grpc-status.ts). The target chooses;
 * checks, efficacy and verdicts ask the reading, never the sample's protocol.
 */
export interface SampleReading {
  /** Whether a response counts as "status N". */
  hasStatus(s: Sample, status: number): boolean;
  /** A response's outcome in words: "status 503", "no HTTP response", "gRPC UNAVAILABLE". */
  statusText(s: Sample): string;
  /** What a claim about status N counted, in words: "had status 503". */
  statusClaimText(status: number): string;
  /** How the circuit breaker's rejections were counted, in words. */
  readonly overloadedText: string;
  /** Whether a response shows an injected fault: the sidecar's flag, or what the data plane shows instead. */
  faultSeen(s: Sample, fault: { flag: string; delayMs?: number }): boolean;
  /** Whether the data plane answered at all (a missing answer a starved generator can cause by itself). */
  answered(s: Sample): boolean;
}

/** The body of the local reply Envoy's fault filter answers an injected abort with. */
export const ENVOY_ABORT_REPLY = 'fault filter abort';

/**
 * Responses over HTTP, through the reference sidecar or Envoy. The reference sidecar names an injected
 * fault in a header (its response flags); Envoy puts no flag in a response: an abort shows as its
 * fault filter's own reply, and a delay only as the time it took.
 */
export const HTTP_READING: SampleReading = {
  hasStatus: (s, status) => s.status === status,
  statusText: (s) => (s.status ? `status ${s.status}` : s.error ? `no HTTP response (${s.error})` : 'no HTTP response'),
  statusClaimText: (status) => `had status ${status}`,
  overloadedText: 'were rejected with 503 and x-envoy-overloaded',
  faultSeen: (s, fault) =>
    s.flags.split(',').includes(fault.flag) ||
    (fault.flag === 'FI' && s.reply === ENVOY_ABORT_REPLY) ||
    (fault.delayMs !== undefined && s.status !== 0 && s.latencyUs >= fault.delayMs * 1000),
  answered: (s) => s.status !== 0,
};
