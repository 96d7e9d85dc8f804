import type { Intent } from '../intents/types.js';
import { DEFAULT_OUTLIER } from '../intents/defaults.js';

/**
 * One example of every intent (and of each variant whose rendering differs), on the bundled app.
 * The golden files, the API-server validation and the conformance matrix all use these.
 */
export const EXAMPLE_INTENTS: readonly { name: string; intent: Intent }[] = [
  { name: 'fault-delay', intent: { kind: 'FaultDelay', service: 'reviews', percent: 50, delayMs: 200 } },
  { name: 'fault-abort', intent: { kind: 'FaultAbort', service: 'reviews', percent: 30, httpStatus: 503 } },
  { name: 'traffic-split', intent: { kind: 'TrafficSplit', service: 'reviews', weights: [{ version: 'v1', weight: 80 }, { version: 'v2', weight: 20 }] } },
  { name: 'header-route', intent: { kind: 'HeaderRoute', service: 'reviews', header: 'end-user', value: 'jason', version: 'v2' } },
  { name: 'mtls-strict-service', intent: { kind: 'MtlsMode', service: 'reviews', mode: 'STRICT' } },
  { name: 'mtls-permissive-service', intent: { kind: 'MtlsMode', service: 'reviews', mode: 'PERMISSIVE' } },
  { name: 'mtls-strict-namespace', intent: { kind: 'MtlsMode', mode: 'STRICT' } },
  { name: 'mtls-permissive-namespace', intent: { kind: 'MtlsMode', mode: 'PERMISSIVE' } },
  { name: 'connection-pool', intent: { kind: 'ConnectionPool', service: 'reviews', maxConnections: 1, maxPendingRequests: 1, maxRequests: 10 } },
  { name: 'outlier-detection', intent: { kind: 'OutlierDetection', service: 'reviews', consecutive5xx: 3, baseEjectionMs: 30_000, ...DEFAULT_OUTLIER } },
  { name: 'retry', intent: { kind: 'Retry', service: 'reviews', attempts: 2, retryOn: ['5xx'] } },
  { name: 'retry-per-try-timeout', intent: { kind: 'Retry', service: 'reviews', attempts: 3, perTryTimeoutMs: 500, retryOn: ['5xx', 'connect-failure'] } },
  { name: 'retry-off', intent: { kind: 'Retry', service: 'reviews', attempts: 0, retryOn: ['5xx'] } },
  { name: 'timeout', intent: { kind: 'Timeout', service: 'ratings', timeoutMs: 100 } },
  { name: 'authorization', intent: { kind: 'Authorization', service: 'reviews', allowFrom: ['productpage'] } },
];

/** Mesh versions whose rendering differs from the default, covered by goldens and validation too. */
export const VERSION_VARIANTS: readonly string[] = ['istio@1.21', 'linkerd@2.15', 'consul@1.21+ent'];

/**
 * Intents that meshes cannot always combine in one scenario (see supportAll), and one they can. The
 * golden files and the API-server validation cover these too.
 */
export const EXAMPLE_COMBINATIONS: readonly { name: string; intents: Intent[] }[] = [
  { name: 'combo-abort-retry', intents: [
    { kind: 'FaultAbort', service: 'reviews', percent: 30, httpStatus: 503 },
    { kind: 'Retry', service: 'reviews', attempts: 2, retryOn: ['5xx'] },
  ] },
  { name: 'combo-delay-timeout', intents: [
    { kind: 'FaultDelay', service: 'ratings', percent: 50, delayMs: 200 },
    { kind: 'Timeout', service: 'ratings', timeoutMs: 100 },
  ] },
  { name: 'combo-delay-split', intents: [
    { kind: 'FaultDelay', service: 'reviews', percent: 50, delayMs: 200 },
    { kind: 'TrafficSplit', service: 'reviews', weights: [{ version: 'v1', weight: 80 }, { version: 'v3', weight: 20 }] },
  ] },
  { name: 'combo-abort-header', intents: [
    { kind: 'FaultAbort', service: 'reviews', percent: 30, httpStatus: 503 },
    { kind: 'HeaderRoute', service: 'reviews', header: 'end-user', value: 'jason', version: 'v2' },
  ] },
  { name: 'combo-retry-split', intents: [
    { kind: 'Retry', service: 'reviews', attempts: 2, retryOn: ['5xx'] },
    { kind: 'TrafficSplit', service: 'reviews', weights: [{ version: 'v1', weight: 80 }, { version: 'v2', weight: 20 }] },
  ] },
  { name: 'combo-retry-timeout', intents: [
    { kind: 'Retry', service: 'reviews', attempts: 2, retryOn: ['5xx'] },
    { kind: 'Timeout', service: 'reviews', timeoutMs: 500 },
  ] },
  { name: 'combo-authorization-abort-elsewhere', intents: [
    { kind: 'Authorization', service: 'reviews', allowFrom: ['productpage'] },
    { kind: 'FaultAbort', service: 'ratings', percent: 10, httpStatus: 500 },
  ] },
];
