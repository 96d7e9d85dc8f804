import type { Sample } from './profile.js';

/**
 * Responses in the order their requests were *sent*, up to the first request whose outcome is not
 * known yet. A sequential look reads this prefix, never "the first N to complete": fast answers
 * complete first, so a completion-ordered look over-represents whatever answers fast (a version
 * that is less loaded, a share that is not delayed) and decides on a biased sample. Which arrivals
 * fall in the prefix depends only on when they were sent, so the prefix is an unbiased sample of
 * the load (docs/adr/0007-honest-verdicts-on-a-busy-machine.md).
 */
export class SendOrder {
  /** Resolved samples in send order, every arrival before them resolved too. */
  readonly prefix: Sample[] = [];
  private readonly pending = new Map<number, Sample | null>();
  private arrivals = 0;
  private frontier = 0;

  /** Arrivals so far (sent or dropped). */
  get arrived(): number {
    return this.arrivals;
  }

  /** Numbers the next arrival (0, 1, 2, ...), whether it is then sent or dropped. */
  arrive(): number {
    return this.arrivals++;
  }

  /** The arrival was never sent (the open model drops an arrival that finds no free slot). */
  drop(seq: number): void {
    this.resolve(seq, null);
  }

  /** The arrival's response (or transport error) is known. */
  complete(seq: number, s: Sample): void {
    this.resolve(seq, s);
  }

  private resolve(seq: number, s: Sample | null): void {
    if (seq < this.frontier || seq >= this.arrivals || this.pending.has(seq)) throw new Error(`SendOrder: arrival ${seq} resolved twice or never arrived`);
    this.pending.set(seq, s);
    while (this.pending.has(this.frontier)) {
      const next = this.pending.get(this.frontier)!;
      this.pending.delete(this.frontier);
      if (next) this.prefix.push(next);
      this.frontier++;
    }
  }
}
