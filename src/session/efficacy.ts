import type { Intent } from '../intents/types.js';
import type { Sample } from '../load/profile.js';
import type { Verdict } from '../verdicts/outcome.js';
import type { SampleReading } from '../load/reading.js';

type Expectation =
  | { kind: 'flag'; flag: string; service: string; what: string; delayMs?: number }
  | { kind: 'workload'; failed: () => Promise<number>; what: string };

/**
 * Efficacy: a chaos verdict counts only when the fault it relies on was seen in effect. A check
 * that passed while the injected fault never showed up becomes INCONCLUSIVE ("passed, nothing happened"
 * is not a pass).
 */
export class Efficacy {
  private readonly expected: Expectation[] = [];

  /** `reading`: how the data plane shows an injected fault in a response. */
  constructor(private readonly reading: SampleReading) {}

  expectIntent(i: Intent): void {
    if (i.kind === 'FaultAbort' && i.percent > 0) this.expected.push({ kind: 'flag', flag: 'FI', service: i.service, what: `abort fault on ${i.service}` });
    if (i.kind === 'FaultDelay' && i.percent > 0) this.expected.push({ kind: 'flag', flag: 'DI', service: i.service, what: `delay fault on ${i.service}`, delayMs: i.delayMs });
  }

  /** `failed` counts the requests the instance failed on purpose since told to. */
  expectWorkloadFault(failed: () => Promise<number>, what: string): void {
    this.expected.push({ kind: 'workload', failed, what });
  }

  async confirm(v: Verdict, samples: readonly Sample[], service?: string): Promise<Verdict> {
    const unseen: string[] = [];
    for (const e of this.expected) {
      if (e.kind === 'flag') {
        if (service !== undefined && e.service !== service) continue;
        if (!samples.some((s) => this.reading.faultSeen(s, e))) unseen.push(`${e.what} (no response carried flag ${e.flag}${e.flag === 'FI' ? ' or was the data plane\'s own abort reply' : ''}${e.delayMs !== undefined ? ' or took the delay' : ''})`);
      } else if ((await e.failed()) === 0) unseen.push(`${e.what} (the instance answered no failing request)`);
    }
    if (this.expected.length === 0) return v;
    if (unseen.length === 0) return { ...v, explanation: `${v.explanation}; the fault was seen in effect` };
    return { ...v, outcome: 'INCONCLUSIVE', explanation: `${v.explanation}; but the fault was not observed in effect: ${unseen.join('; ')}` };
  }
}
