import { resolve } from 'node:path';
import { adapterFor, appContext } from '../adapters/registry.js';
import { readScenarios } from '../plan/features.js';
import { formatPlan, planMesh, toYaml } from '../plan/plan.js';
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
  const { adapter, version } = adapterFor(o.mesh);
  const scenarios = readScenarios(paths.length ? paths.map((p) => resolve(p)) : [DEFAULT_FEATURES]);
  const ctx = appContext(o.namespace, version);
  const p = planMesh(adapter, ctx, scenarios);
  const workload = o.workload ? adapter.workload(ctx) : undefined;
  if (o.format === 'json') return `${JSON.stringify({ ...p, ...(workload ? { workload } : {}) }, null, 2)}\n`;
  if (o.format === 'yaml') return toYaml([...(workload ?? []), ...p.scenarios.flatMap((s) => s.objects)]);
  return `${workload ? `# workload (${adapter.shape})\n${toYaml(workload)}\n` : ''}${formatPlan(p, { manifests: o.manifests })}`;
}
