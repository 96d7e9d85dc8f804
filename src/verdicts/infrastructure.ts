import { describeHealth, type LoadHealth } from '../load/health.js';
import type { Sample } from '../load/profile.js';
import type { SampleCheck } from './sample-checks.js';
import type { Verdict } from './outcome.js';

/**
 * The marker in the step's error message of a verdict that meshcheck's own load could not support:
 * its Allure category (reports/allure-categories.json) matches it.
 */
export const INFRASTRUCTURE_MARKER = 'load generator behind / machine busy';

/**
 * A verdict never turns FAILED because meshcheck itself fell behind. A latency, overhead or rate
 * claim that failed on an unhealthy load is INCONCLUSIVE, with the load's figures and the FAILED the
 * data gave recorded as withheld. A claim about every response fails on any counter-example except
 * a missing HTTP response (status 0), which a starved generator or machine can cause by itself; a
 * count claim ("at least N") is not weakened by a slow machine, so it keeps its outcome. A claim
 * left INCONCLUSIVE on an unhealthy load (its budget not delivered, say) gets the load's reasons too.
 */
export function guardVerdict(v: Verdict, check: Pick<SampleCheck, 'kind' | 'match' | 'answered'> | 'overhead', health: readonly (LoadHealth | undefined)[], samples: readonly Sample[] = []): Verdict {
  const sick = health.filter((h): h is LoadHealth => h !== undefined && !h.healthy);
  if (sick.length === 0 || v.outcome === 'PASSED' || v.outcome === 'NOT_SUPPORTED' || v.outcome === 'BROKEN') return v;
  // Several loads (overhead rounds): the one with the most reasons speaks for them.
  const worst = sick.reduce((a, h) => (h.reasons.length > a.reasons.length ? h : a), sick[0]!);
  const reasons = health.length > 1 ? [`${sick.length} of ${health.length} loads not healthy`, ...worst.reasons] : worst.reasons;
  const figures = [describeHealth(worst)];
  const why = `${INFRASTRUCTURE_MARKER} (${reasons.join('; ')}); figures${health.length > 1 ? ' of the worst' : ''}: ${figures[0]}`;
  if (v.outcome === 'INCONCLUSIVE') return { ...v, infrastructure: { reasons, figures }, explanation: `${v.explanation}; the load was not healthy: ${why}` };
  if (check !== 'overhead') {
    if (check.kind === 'count') return v;
    if (check.kind === 'every' && samples.some((s) => !check.match!(s) && (check.answered ?? ((x) => x.status !== 0))(s))) return v;
  }
  return {
    ...v,
    outcome: 'INCONCLUSIVE',
    infrastructure: { withheld: 'FAILED', reasons, figures },
    explanation: `${v.explanation}; not decided as FAILED: ${why}, so the deviation may be meshcheck's own, not the mesh's`,
  };
}
