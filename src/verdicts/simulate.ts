import { SendOrder } from '../load/send-order.js';
import type { Sample } from '../load/profile.js';
import { SequentialPlan, type SampleCheck } from './sample-checks.js';
import type { Verdict } from './outcome.js';

/** One simulated request: what it will answer and how long it takes, in ms. */
export interface Draw {
  sample: Omit<Sample, 'latencyUs'>;
  latencyMs: number;
}

export interface SimulatedLoad {
  verdicts: Verdict[];
  /** Requests sent before the plan stopped the load (or the whole budget). */
  sent: number;
}

/**
 * An open-model load in simulated time, for checking the sequential looks by simulation: request i
 * leaves at i/rps and completes after its drawn latency; the plan is asked every 20 responses, as
 * the embedded engine asks it, either with the send-ordered prefix (what meshcheck does) or with
 * responses in completion order (the biased way, kept to show the difference).
 */
export function simulateLoad(o: { budget: number; rps: number; draw: () => Draw; checks: SampleCheck[]; order: 'send' | 'completion' }): SimulatedLoad {
  const plan = new SequentialPlan(o.checks, o.budget);
  const interval = 1000 / o.rps;
  const log = new SendOrder();
  const completed: Sample[] = [];
  const pending = new MinHeap<{ at: number; seq: number; sample: Sample }>((a, b) => a.at - b.at);
  let next = 0;
  let stop = false;
  let checkedAt = 0;
  const view = () => (o.order === 'send' ? log.prefix : completed);
  while ((next < o.budget && !stop) || pending.length > 0) {
    const sendAt = next * interval;
    if (next < o.budget && !stop && (pending.length === 0 || sendAt <= pending.peek()!.at)) {
      const d = o.draw();
      pending.push({ at: sendAt + d.latencyMs, seq: log.arrive(), sample: { ...d.sample, latencyUs: Math.round(d.latencyMs * 1000) } });
      next++;
      continue;
    }
    const done = pending.pop()!;
    log.complete(done.seq, done.sample);
    completed.push(done.sample);
    if (!stop && view().length - checkedAt >= 20) {
      checkedAt = view().length;
      stop = plan.update(view());
    }
  }
  const all = log.prefix;
  return { verdicts: o.checks.map((c) => plan.verdict(c, all)), sent: next };
}

/** A binary min-heap: the pending completions of the simulation, earliest first. */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}

  get length(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (this.less(a[i]!, a[parent]!) >= 0) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
