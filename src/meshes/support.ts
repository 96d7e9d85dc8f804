import type { Support, SupportLevel } from './types.js';

/** A scenario's capability level on a mesh: the weakest of its intents ("policy-free" when it states none). */
export type ScenarioLevel = SupportLevel | 'policy-free';

const RANK: Record<ScenarioLevel, number> = { 'policy-free': 0, native: 1, emulated: 2, unsupported: 3 };

export function scenarioLevel(supports: Support[]): ScenarioLevel {
  return supports.reduce<ScenarioLevel>((worst, s) => (RANK[s.level] > RANK[worst] ? s.level : worst), 'policy-free');
}

/** One line saying how a mesh expresses an intent. */
export function describeSupport(s: Support): string {
  return s.level === 'native' ? `native (${s.via})` : s.level === 'emulated' ? `emulated: ${s.how}` : `unsupported: ${s.reason}`;
}
