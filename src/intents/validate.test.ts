import { validateIntent } from './validate.js';
import type { Intent } from './types.js';

const ref = { file: 'features/x.feature', line: 7 };
const bad: [string, Intent, RegExp][] = [
  ['a share above 100%', { kind: 'FaultAbort', service: 'reviews', percent: 130, httpStatus: 503 }, /features\/x\.feature:7: FaultAbort: abort share 130% is out of range; expected a percentage from 0% to 100%/],
  ['weights not summing to 100', { kind: 'TrafficSplit', service: 'reviews', weights: [{ version: 'v1', weight: 80 }, { version: 'v2', weight: 30 }] }, /:7: TrafficSplit: weights sum to 110; expected weights that sum to 100/],
  ['an unknown version', { kind: 'HeaderRoute', service: 'reviews', header: 'end-user', value: 'jason', version: 'v9' }, /unknown version "v9" of "reviews"; expected one of v1, v2, v3/],
  ['a negative duration', { kind: 'Timeout', service: 'reviews', timeoutMs: -5 }, /timeout -5ms is not a positive duration/],
  ['an unknown service', { kind: 'FaultDelay', service: 'nope', percent: 10, delayMs: 5 }, /unknown service "nope"/],
  ['an unknown retry condition', { kind: 'Retry', service: 'reviews', attempts: 2, retryOn: ['sometimes'] }, /retry condition "sometimes"/],
];

describe('intent validation', () => {
  it.each(bad)('rejects %s, naming the file and line', (_name, intent, message) => {
    expect(() => validateIntent(intent, ref)).toThrow(message);
  });

  it('accepts every valid intent kind', () => {
    const good: Intent[] = [
      { kind: 'FaultAbort', service: 'reviews', percent: 30, httpStatus: 503 },
      { kind: 'FaultDelay', service: 'reviews', percent: 50, delayMs: 200 },
      { kind: 'TrafficSplit', service: 'reviews', weights: [{ version: 'v1', weight: 80 }, { version: 'v2', weight: 20 }] },
      { kind: 'HeaderRoute', service: 'reviews', header: 'end-user', value: 'jason', version: 'v2' },
      { kind: 'MtlsMode', mode: 'STRICT' },
      { kind: 'ConnectionPool', service: 'reviews', maxConnections: 1, maxPendingRequests: 1 },
      { kind: 'OutlierDetection', service: 'reviews', consecutive5xx: 3, intervalMs: 1000, baseEjectionMs: 30000, maxEjectionPercent: 10 },
      { kind: 'Retry', service: 'reviews', attempts: 2, retryOn: ['5xx'] },
      { kind: 'Timeout', service: 'ratings', timeoutMs: 500 },
      { kind: 'Authorization', service: 'reviews', allowFrom: ['productpage'] },
    ];
    for (const i of good) expect(validateIntent(i, ref)).toBe(i);
  });
});
