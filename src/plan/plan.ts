import type { Intent } from '../intents/types.js';
import type { K8sObject } from '../kube/objects.js';
import type { Mesh, RenderContext, Support } from '../meshes/types.js';
import type { PlannedScenario } from './features.js';
import { decidable } from '../verdicts/power.js';
import { scenarioLevel, type ScenarioLevel } from '../meshes/support.js';

export interface ScenarioPlan {
  scenario: Omit<PlannedScenario, 'intents'>;
  level: ScenarioLevel;
  /** NOT_SUPPORTED when an intent is unsupported (before anything is applied) or a Then step cannot be answered. */
  outcome?: 'NOT_SUPPORTED';
  intents: { intent: Intent; line: number; support: Support }[];
  /** Exactly what would be applied (server-side apply), in order. Empty when NOT_SUPPORTED. */
  objects: K8sObject[];
  /** Then steps this data plane cannot answer (each a NOT_SUPPORTED verdict in a run), with the reason. */
  notChecked: { line: number; text: string; reason: string }[];
  /** What the budget of each claim's load can decide (verdicts/power.ts); `warning` when not even the ideal truth passes. */
  claims: { line: number; text: string; budget?: number; decides?: string; warning?: string }[];
}

export interface MeshPlan {
  mesh: string;
  version: string;
  namespace: string;
  scenarios: ScenarioPlan[];
  summary: { capability: string; native: number; emulated: number; unsupported: number; policyFree: number }[];
}

/** What a plan needs of a mesh: its render (support per intent, the objects) and what its data plane cannot answer. */
export type Planner = Pick<Mesh, 'name' | 'render' | 'lacks'>;

/** Plans every scenario on one mesh: support per intent, the objects a run would apply, and what each load's budget can decide. */
export function planMesh(adapter: Planner, ctx: RenderContext, scenarios: PlannedScenario[]): MeshPlan {
  const plans: ScenarioPlan[] = scenarios.map(({ intents, ...scenario }) => {
    const list = intents.map((i) => i.intent);
    const r = adapter.render(list, ctx);
    const level = scenarioLevel(r.intents.map((i) => i.support));
    const notChecked = scenario.checks.flatMap((c) => {
      const reason = adapter.lacks?.(c.feature);
      return reason ? [{ line: c.line, text: c.text, reason }] : [];
    });
    return {
      scenario, level,
      ...(level === 'unsupported' || notChecked.length ? { outcome: 'NOT_SUPPORTED' as const } : {}),
      intents: r.intents.map((ri, n) => ({ intent: ri.intent, line: intents[n]!.source.line, support: ri.support })),
      objects: level === 'unsupported' ? [] : r.objects,
      notChecked,
      claims: scenario.claims.map((c) => {
        const d = c.budget === undefined ? undefined : decidable(c.spec, c.budget);
        const budget = c.budget !== undefined ? { budget: c.budget } : {};
        return { line: c.line, text: c.text, ...budget, ...(d ? { decides: d.text } : {}), ...(d?.warning ? { warning: d.warning.text } : {}) };
      }),
    };
  });
  const caps = [...new Set(plans.map((p) => p.scenario.capability))];
  const summary = caps.map((capability) => {
    const of = plans.filter((p) => p.scenario.capability === capability);
    const n = (l: ScenarioLevel) => of.filter((p) => p.level === l).length;
    return { capability, native: n('native'), emulated: n('emulated'), unsupported: n('unsupported'), policyFree: n('policy-free') };
  });
  return { mesh: adapter.name, version: ctx.meshVersion, namespace: ctx.namespace, scenarios: plans, summary };
}
