import { describeGrpcCount, GRPC_READING, grpcForClaim, grpcForHttp, grpcName } from './grpc-status.js';
import type { Sample } from './profile.js';
import { HTTP_READING } from './reading.js';

const grpc = (code: number): Sample => ({ status: code === 0 ? 200 : 0, grpc: code, latencyUs: 1000, overloaded: false, flags: '-' });

describe('HTTP status claims on a gRPC data plane', () => {
  test("an HTTP status reaches a gRPC caller through gRPC's HTTP-to-gRPC mapping", () => {
    expect(Object.fromEntries([200, 400, 401, 403, 404, 429, 500, 502, 503, 504].map((s) => [s, grpcName(grpcForHttp(s))]))).toEqual({
      200: 'OK', 400: 'INTERNAL', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'UNIMPLEMENTED',
      429: 'UNAVAILABLE', 500: 'UNKNOWN', 502: 'UNAVAILABLE', 503: 'UNAVAILABLE', 504: 'UNAVAILABLE',
    });
  });

  test('a claim of 504 counts DEADLINE_EXCEEDED (a route timeout), a claim of 403 PERMISSION_DENIED (a denial)', () => {
    expect(grpcName(grpcForClaim(504))).toBe('DEADLINE_EXCEEDED');
    expect(grpcName(grpcForClaim(403))).toBe('PERMISSION_DENIED');
    expect(describeGrpcCount(503)).toBe('HTTP 503 counted as gRPC UNAVAILABLE');
  });

  test('the gRPC reading counts the code a caller gets for an HTTP status; the HTTP reading the status; the text shows both', () => {
    expect(GRPC_READING.hasStatus(grpc(14), 503)).toBe(true);
    expect(GRPC_READING.hasStatus(grpc(14), 504)).toBe(false);
    expect(GRPC_READING.hasStatus(grpc(4), 504)).toBe(true);
    expect(GRPC_READING.hasStatus(grpc(0), 200)).toBe(true);
    expect(HTTP_READING.hasStatus({ status: 503, latencyUs: 1, overloaded: false, flags: '-' }, 503)).toBe(true);
    expect(GRPC_READING.statusText(grpc(7))).toBe('gRPC PERMISSION_DENIED');
    expect(GRPC_READING.statusClaimText(503)).toBe('had status 503 (HTTP 503 counted as gRPC UNAVAILABLE)');
    expect(HTTP_READING.statusClaimText(503)).toBe('had status 503');
  });
});
