import type { Sample } from './profile.js';
import type { SampleReading } from './reading.js';

/**
 * gRPC status codes as a caller sees them, and how meshcheck counts an HTTP status claim on a gRPC
 * data plane. gRPC's HTTP-to-gRPC mapping (grpc/grpc doc/http-grpc-status-mapping.md) turns an HTTP
 * status the mesh answered into a gRPC code: 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
 * 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, anything else UNKNOWN. Two answers Envoy gives with
 * an HTTP status reach a gRPC caller differently: a route timeout (Envoy 504) ends DEADLINE_EXCEEDED,
 * an authorization denial (Envoy 403) PERMISSION_DENIED.
 */
export const GRPC_CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

export function grpcName(code: number): string {
  return GRPC_CODE_NAMES[code] ?? `CODE_${code}`;
}

/** The gRPC code a caller gets when the mesh (or a workload told to fail) answers with an HTTP status. */
export function grpcForHttp(status: number): number {
  if (status >= 200 && status < 300) return 0;
  switch (status) {
    case 400: return 13;
    case 401: return 16;
    case 403: return 7;
    case 404: return 12;
    case 429: case 502: case 503: case 504: return 14;
    default: return 2;
  }
}

/**
 * The gRPC code counted for a claim about HTTP status `status`: the mapping above, except 504, which
 * is counted as DEADLINE_EXCEEDED (what a route timeout gives; an abort injected with 504 reaches gRPC
 * as UNAVAILABLE and is counted under 503).
 */
export function grpcForClaim(status: number): number {
  return status === 504 ? 4 : grpcForHttp(status);
}

/** The table, for the README and the verdicts' explanations. */
export function describeGrpcCount(status: number): string {
  return `HTTP ${status} counted as gRPC ${grpcName(grpcForClaim(status))}`;
}

/**
 * Responses of a gRPC data plane (proxyless gRPC): a status claim counts the gRPC code a caller gets
 * for that HTTP status; grpc-go names an injected abort in its message (flag FI) and delays silently,
 * so a delay is seen as a call that took at least the delay.
 */
export const GRPC_READING: SampleReading = {
  hasStatus: (s, status) => s.grpc === grpcForClaim(status),
  statusText: (s) => `gRPC ${grpcName(s.grpc ?? 2)}${s.error ? ` (${s.error})` : ''}`,
  statusClaimText: (status) => `had status ${status} (${describeGrpcCount(status)})`,
  overloadedText: 'were rejected by the circuit breaker (gRPC UNAVAILABLE "max requests exceeded")',
  faultSeen: (s: Sample, fault) => s.flags.split(',').includes(fault.flag) || (fault.delayMs !== undefined && s.latencyUs >= fault.delayMs * 1000),
  answered: () => true,
};
