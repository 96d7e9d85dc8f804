import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { UsageError } from '../errors.js';
import { conformanceMatrix, conformanceReport } from '../reports/conformance.js';
import type { Outcome } from '../verdicts/outcome.js';
import type { Intent } from '../intents/types.js';
import { OTHER_DATA_PLANES, REFERENCE, meshFor, appContext } from '../meshes/registry.js';
import { readScenarios } from '../plan/features.js';
import { planMesh, type MeshPlan, type Planner } from '../plan/plan.js';
import type { PlannedScenario } from '../plan/features.js';
import { describeIntent } from '../intents/describe.js';
import { describeSupport } from '../meshes/support.js';
import { toYaml } from '../util/yaml.js';
import { DEFAULT_FEATURES } from './paths.js';

export interface PlanOptions {
  mesh: string;
  namespace: string;
  format: 'text' | 'yaml' | 'json';
  manifests: boolean;
  workload?: boolean;
}

/** `meshcheck plan`: what each scenario would apply on a mesh, rendered without a cluster. */
export function plan(paths: string[], o: PlanOptions): string {
  const scenarios = readScenarios(paths.length ? paths.map((p) => resolve(p)) : [DEFAULT_FEATURES]);
  if (o.mesh === REFERENCE.name) return planReference(scenarios, o);
  const { mesh: adapter, version } = meshFor(o.mesh);
  const ctx = appContext(o.namespace, version);
  const p = planMesh(adapter, ctx, scenarios);
  // The mesh's other data planes (a proxyless one): the level of each scenario there too.
  const others = (OTHER_DATA_PLANES[adapter.name] ?? []).map((a) => ({ dataPlane: a.dataPlane!, plan: planMesh(a, appContext(o.namespace, a.defaultVersion), scenarios) }));
  const workload = o.workload ? adapter.workload(ctx) : undefined;
  if (o.format === 'json') return `${JSON.stringify({ ...p, ...(workload ? { workload } : {}), ...(others.length ? { otherDataPlanes: others } : {}) }, null, 2)}\n`;
  if (o.format === 'yaml') return toYaml([...(workload ?? []), ...p.scenarios.flatMap((s) => s.objects)]);
  return `${workload ? `# workload (${adapter.shape})\n${toYaml(workload)}\n` : ''}${formatPlan(p, { manifests: o.manifests, others })}`;
}

/**
 * The plan on the reference mesh (the default: no mesh named): meshcheck's own sidecars express every
 * intent and take no Kubernetes objects, so the plan is each claim's budget and the intents' support.
 */
function planReference(scenarios: PlannedScenario[], o: PlanOptions): string {
  if (o.workload) throw new UsageError('--workload: the reference mesh runs on this machine and has no Kubernetes workload; name a mesh with --mesh');
  const reference: Planner = {
    name: REFERENCE.name,
    render: (intents) => ({ objects: [], intents: (Array.isArray(intents) ? intents : [intents]).map((intent: Intent) => ({ intent, support: REFERENCE.support(intent) })) }),
  };
  const p = planMesh(reference, appContext(o.namespace, ''), scenarios);
  if (o.format === 'json') return `${JSON.stringify(p, null, 2)}\n`;
  if (o.format === 'yaml') return '';
  return formatPlan(p, { manifests: false });
}

/** `meshcheck conformance`: the matrix, or one mesh's report (outcomes from a run folder when given). */
export function conformance(paths: string[], o: { mesh?: string; run?: string; matrix?: boolean }): string {
  if (o.matrix) return `${conformanceMatrix()}\n`;
  if (!o.mesh) throw new UsageError('conformance: give --mesh MESH for a report, or --matrix for the matrix');
  const { mesh: adapter, version } = meshFor(o.mesh);
  const p = planMesh(adapter, appContext('meshcheck', version), readScenarios(paths.length ? paths.map((x) => resolve(x)) : [DEFAULT_FEATURES]));
  let outcomes: Map<string, Outcome> | undefined;
  if (o.run) {
    const file = join(o.run, 'run-record.json');
    if (!existsSync(file)) throw new UsageError(`--run ${o.run}: no run-record.json there`);
    const record = JSON.parse(readFileSync(file, 'utf8')) as { mesh?: string; scenarios: { name: string; feature: string; outcome: Outcome }[] };
    outcomes = new Map(record.scenarios.map((s) => [`${s.feature}|${s.name}`, s.outcome]));
  }
  return stringify(conformanceReport(adapter, p, outcomes), { lineWidth: 0 });
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
    if (s.claims.length) out.push('claims (what the load\'s budget can decide):');
    for (const c of s.claims) out.push(`- line ${c.line}: "${c.text}"${c.decides ? `: ${c.decides}` : c.budget === undefined ? ': no load before it' : ''}${c.warning ? `\n  WARNING: ${c.warning}` : ''}`);
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
  const undecidable = p.scenarios.flatMap((s) => s.claims.filter((c) => c.warning).map((c) => `- ${s.scenario.file}:${c.line} "${c.text}": ${c.warning}`));
  if (undecidable.length) out.push('', 'Budgets that cannot decide their claim:', ...undecidable);
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
