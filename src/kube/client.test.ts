import { InfraError } from '../errors.js';
import { alreadyExists, apiCall } from './client.js';

const fail = (code: number | string, headers: Record<string, string> = {}) => Object.assign(new Error(`HTTP ${code}`), { code, headers, body: JSON.stringify({ message: `server said ${code}` }) });

describe('API calls through conflicts, throttling and an API server restart', () => {
  test('409, 429 (Retry-After honoured) and a refused connection are retried until the call goes through', async () => {
    const waits: number[] = [];
    const errors = [fail(409), fail(429, { 'retry-after': '2' }), fail('ECONNREFUSED')];
    let calls = 0;
    const r = await apiCall({ verb: 'patch', kind: 'VirtualService', name: 'reviews', namespace: 'ns' }, async () => {
      calls++;
      const e = errors.shift();
      if (e) throw e;
      return 'applied';
    }, async (ms) => {
      waits.push(ms);
    });
    expect({ r, calls }).toEqual({ r: 'applied', calls: 4 });
    expect(waits[1]).toBe(2000);
  });

  test('a 403 is an RBAC denial naming the verb, the kind and the namespace, not retried', async () => {
    let calls = 0;
    const call = apiCall({ verb: 'patch (server-side apply)', kind: 'VirtualService', name: 'reviews', namespace: 'shop' }, async () => {
      calls++;
      throw fail(403);
    }, async () => undefined);
    await expect(call).rejects.toThrow(InfraError);
    await expect(call).rejects.toThrow(/RBAC: not allowed to patch \(server-side apply\) VirtualService reviews in namespace shop: 403 server said 403/);
    expect(calls).toBe(1);
  });

  test('a 409 AlreadyExists is thrown at once: no retry changes it', async () => {
    let calls = 0;
    const exists = Object.assign(new Error('HTTP 409'), { code: 409, body: JSON.stringify({ kind: 'Status', reason: 'AlreadyExists', code: 409 }) });
    await expect(apiCall({ verb: 'create' }, async () => {
      calls++;
      throw exists;
    }, async () => undefined)).rejects.toThrow(/HTTP 409/);
    expect({ calls, alreadyExists: alreadyExists(exists), conflict: alreadyExists(fail(409)) }).toEqual({ calls: 1, alreadyExists: true, conflict: false });
  });

  test('other errors (a 422 invalid object) are thrown at once', async () => {
    let calls = 0;
    await expect(apiCall({ verb: 'patch' }, async () => {
      calls++;
      throw fail(422);
    }, async () => undefined)).rejects.toThrow(/HTTP 422/);
    expect(calls).toBe(1);
  });
});
