import { describeGrpcCount, grpcForClaim, grpcForHttp, grpcName } from './grpc-status.js';
import { hasStatus, statusClaimText, statusText, type Sample } from './profile.js';

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

  test('hasStatus reads the HTTP status, or on gRPC the code counted for it; the text shows both', () => {
    expect(hasStatus(grpc(14), 503)).toBe(true);
    expect(hasStatus(grpc(14), 504)).toBe(false);
    expect(hasStatus(grpc(4), 504)).toBe(true);
    expect(hasStatus(grpc(0), 200)).toBe(true);
    expect(hasStatus({ status: 503, latencyUs: 1, overloaded: false, flags: '-' }, 503)).toBe(true);
    expect(statusText(grpc(7))).toBe('gRPC PERMISSION_DENIED');
    expect(statusClaimText([grpc(14)], 503)).toBe('had status 503 (HTTP 503 counted as gRPC UNAVAILABLE)');
    expect(statusClaimText([{ status: 503, latencyUs: 1, overloaded: false, flags: '-' }], 503)).toBe('had status 503');
  });
});
