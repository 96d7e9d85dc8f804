import type { Intent } from '../intents/types.js';
import type { K8sObject } from '../kube/objects.js';
import type { Mesh, RenderContext, Support } from '../meshes/types.js';
import type { PlannedScenario } from './features.js';
import { describeIntent } from '../intents/describe.js';
import { describeSupport, scenarioLevel, type ScenarioLevel } from '../meshes/support.js';
import { toYaml } from '../util/yaml.js';

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
}

export interface MeshPlan {
  mesh: string;
  version: string;
  namespace: string;
  scenarios: ScenarioPlan[];
  summary: { capability: string; native: number; emulated: number; unsupported: number; policyFree: number }[];
}

/** Plans every scenario on one mesh: support per intent, and the objects a run would apply. */
export function planMesh(adapter: Mesh, ctx: RenderContext, scenarios: PlannedScenario[]): MeshPlan {
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

/** The human-readable plan: per scenario its level, intents and manifests; then the capability summary. */
export function formatPlan(p: MeshPlan, o: { manifests: boolean; others?: { dataPlane: string; plan: MeshPlan }[] } = { manifests: true }): string {
  const others = o.others ?? [];
  const out: string[] = [`# meshcheck plan: ${p.mesh} ${p.version}, namespace ${p.namespace}${others.length ? ` (sidecars; ${others.map((x) => `${x.dataPlane} ${x.plan.version}`).join(', ')} below each scenario)` : ''}`, ''];
  for (const [n, s] of p.scenarios.entries()) {
    const label = s.outcome ? `NOT_SUPPORTED (${s.level})` : s.level;
    out.push(`## ${s.scenario.file}:${s.scenario.line}  ${s.scenario.name}`, `level: ${label}`);
    for (const x of others) {
      const t = x.plan.scenarios[n]!;
      const why = [
        ...t.intents.filter((i) => i.support.level === 'unsupported').map((i) => `${describeIntent(i.intent)} — ${(i.support as { reason: string }).reason}`),
        ...t.notChecked.map((c) => `line ${c.line} "${c.text}" — ${c.reason}`),
      ];
      out.push(`level on ${x.dataPlane} ${x.plan.version}: ${t.outcome ? `NOT_SUPPORTED (${why.join('; ')})` : t.level}`);
    }
    if (s.intents.length === 0) out.push('intents: none (needs only the sidecars)');
    for (const i of s.intents) out.push(`- line ${i.line}: ${describeIntent(i.intent)} — ${describeSupport(i.support)}`);
    if (o.manifests && s.objects.length) out.push('manifests:', toYaml(s.objects).trimEnd());
    else if (o.manifests && !s.outcome && s.intents.length) out.push('manifests: none needed');
    out.push('');
  }
  out.push('# capability summary', '', '| capability | native | emulated | not supported | policy-free |', '| --- | --- | --- | --- | --- |');
  for (const c of p.summary) out.push(`| ${c.capability} | ${c.native} | ${c.emulated} | ${c.unsupported} | ${c.policyFree} |`);
  for (const x of others) {
    out.push('', `# capability summary on ${x.dataPlane} ${x.plan.version}`, '', '| capability | native | emulated | not supported | policy-free |', '| --- | --- | --- | --- | --- |');
    for (const c of x.plan.summary) out.push(`| ${c.capability} | ${c.native} | ${c.emulated} | ${c.unsupported} | ${c.policyFree} |`);
  }
  const unsupported = p.scenarios.filter((s) => s.outcome);
  if (unsupported.length) {
    out.push('', 'NOT_SUPPORTED on this mesh:');
    for (const s of unsupported) {
      for (const i of s.intents.filter((x) => x.support.level === 'unsupported')) out.push(`- ${s.scenario.name}: ${describeIntent(i.intent)} — ${(i.support as { reason: string }).reason}`);
      for (const c of s.notChecked) out.push(`- ${s.scenario.name}: line ${c.line} "${c.text}" — ${c.reason}`);
    }
  }
  return `${out.join('\n')}\n`;
}
