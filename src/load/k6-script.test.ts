import { readFileSync } from 'node:fs';
import { k6Env, K6_METRIC, K6_SCRIPTS, K6_SUMMARY_MARK } from './k6.js';
import { profile } from './profile.js';

describe('load/requests.js, the k6 script meshcheck runs', () => {
  test('records the metric and prints the summary mark that meshcheck reads back', () => {
    const script = readFileSync(K6_SCRIPTS.requests, 'utf8');
    expect(script).toContain(`new Trend('${K6_METRIC}', true)`);
    expect(script).toContain(`${K6_SUMMARY_MARK} `);
  });

  test('reads every setting of a share from the environment, each named in its header', () => {
    const env = k6Env(profile({ service: 'reviews', requests: 200, rps: 100, headers: { 'end-user': 'jason' } }), { url: 'http://127.0.0.1:1', summary: 'stdout' });
    expect(env).toMatchObject({ MESHCHECK_SERVICE: 'reviews', MESHCHECK_REQUESTS: '200', MESHCHECK_RPS: '100', MESHCHECK_HEADERS: '{"end-user":"jason"}', MESHCHECK_SUMMARY: 'stdout' });
    const script = readFileSync(K6_SCRIPTS.requests, 'utf8');
    for (const name of Object.keys(env)) {
      expect(script).toContain(`'${name}'`);
      expect(script).toMatch(new RegExp(`^//.*${name}`, 'm'));
    }
  });
});
