import { InfraError } from '../errors.js';

export interface EventuallyOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is being waited for, for the error message. */
  describe: string;
  /** Checked before each try: a reason here ends the wait at once (what it waits for has died). */
  abort?: () => string | undefined;
}

/** The one wait helper: retries `check` until it returns a value other than undefined/false. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, opts: EventuallyOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    const gone = opts.abort?.();
    if (gone) throw new InfraError(`stopped waiting for ${opts.describe}: ${gone}`);
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new InfraError(`timed out after ${opts.timeoutMs}ms waiting for ${opts.describe}`, { cause: last });
    }
    await sleep(opts.intervalMs ?? 20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
