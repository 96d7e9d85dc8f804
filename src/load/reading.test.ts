import { k6Point, K6_METRIC } from './k6.js';
import type { Sample } from './profile.js';
import { ENVOY_ABORT_REPLY, HTTP_READING } from './reading.js';

const sample = (o: Partial<Sample>): Sample => ({ status: 200, latencyUs: 800, overloaded: false, flags: '-', ...o });

describe('an injected fault, as HTTP responses show it', () => {
  test("the reference sidecar's flag, or Envoy's own abort reply; any other 503 is not an injected abort", () => {
    const abort = { flag: 'FI' };
    expect(HTTP_READING.faultSeen(sample({ status: 503, flags: 'FI' }), abort)).toBe(true);
    expect(HTTP_READING.faultSeen(sample({ status: 503, reply: ENVOY_ABORT_REPLY }), abort)).toBe(true);
    expect(HTTP_READING.faultSeen(sample({ status: 503, reply: 'no healthy upstream' }), abort)).toBe(false);
    expect(HTTP_READING.faultSeen(sample({ status: 503 }), abort)).toBe(false);
  });

  test('a delay: the flag, or an answer that took at least the delay (Envoy shows nothing else); no answer is not a delay', () => {
    const delay = { flag: 'DI', delayMs: 200 };
    expect(HTTP_READING.faultSeen(sample({ flags: 'DI', latencyUs: 1000 }), delay)).toBe(true);
    expect(HTTP_READING.faultSeen(sample({ latencyUs: 201_000 }), delay)).toBe(true);
    expect(HTTP_READING.faultSeen(sample({ latencyUs: 199_000 }), delay)).toBe(false);
    expect(HTTP_READING.faultSeen(sample({ status: 0, latencyUs: 900_000 }), delay)).toBe(false);
  });
});

test("k6's point keeps the data plane's own reply", () => {
  const line = JSON.stringify({ metric: K6_METRIC, type: 'Point', data: { time: '2026-12-07T08:00:00Z', value: 1.5, tags: { status: '503', flags: '-', overloaded: 'false', reply: ENVOY_ABORT_REPLY, sent: '1796630400000' } } });
  expect(k6Point(line)).toMatchObject({ status: 503, reply: ENVOY_ABORT_REPLY, latencyUs: 1500 });
  expect(k6Point(line.replace(`,"reply":"${ENVOY_ABORT_REPLY}"`, ''))?.reply).toBeUndefined();
});
