import { eventually } from './eventually.js';

describe('eventually', () => {
  it('returns the first value the check gives', async () => {
    let n = 0;
    await expect(eventually(() => (++n >= 3 ? n : undefined), { timeoutMs: 5_000, intervalMs: 1, describe: 'three tries' })).resolves.toBe(3);
  });

  it('names what it waited for and the last error once the time is up', async () => {
    const err = await eventually(() => {
      throw new Error('connection refused');
    }, { timeoutMs: 30, intervalMs: 5, describe: 'the server' }).catch((e: Error) => e);
    expect((err as Error).message).toBe('timed out after 30ms waiting for the server');
    expect(((err as Error).cause as Error).message).toBe('connection refused');
  });

  it('stops at once when abort gives a reason (what it waits for has died)', async () => {
    let tries = 0;
    let dead: string | undefined;
    const err = await eventually(() => {
      tries++;
      if (tries === 2) dead = 'istiod exited with 7';
      return false;
    }, { timeoutMs: 60_000, intervalMs: 1, describe: 'istiod ready', abort: () => dead }).catch((e: Error) => e);
    expect((err as Error).message).toBe('stopped waiting for istiod ready: istiod exited with 7');
    expect(tries).toBe(2);
  });
});
