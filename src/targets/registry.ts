import { UsageError } from '../errors.js';
import { meshFor, REFERENCE } from '../meshes/registry.js';
import { flagName, type OptionSpec } from '../options.js';
import { istioTierPlugin } from './istio/plugin.js';
import { kubePlugin } from './kube/plugin.js';
import { localPlugin } from './local/plugin.js';
import type { TargetCheck, TargetPlugin } from './plugin.js';

/** Every target, in the order the plugins of one --target are asked whether they run a mesh. */
export const TARGETS: readonly TargetPlugin[] = [localPlugin, istioTierPlugin, kubePlugin];

/** The --target names, each once, the default first. */
export const TARGET_NAMES: readonly string[] = [...new Set(TARGETS.map((t) => t.target))];

/** Every target's own options, each once, with the --target that takes it (the CLI's run flags). */
export function targetOptions(): { spec: OptionSpec; target: string }[] {
  const out: { spec: OptionSpec; target: string }[] = [];
  for (const t of TARGETS) for (const spec of t.options()) if (!out.some((o) => o.spec.name === spec.name)) out.push({ spec, target: t.target });
  return out;
}

/** The plugin that runs `mesh` on `--target target`; a usage error that says what does otherwise. */
export function targetFor(target: string, mesh: string): TargetPlugin {
  const group = TARGETS.filter((t) => t.target === target);
  if (!group.length) throw new UsageError(`--target ${target}: unknown target; known: ${TARGET_NAMES.join(', ')}`);
  // An unknown mesh, or a version meshcheck does not know, is named as such first.
  if (mesh.split('@')[0] !== REFERENCE.name) meshFor(mesh);
  const plugin = group.find((t) => t.runs(mesh));
  if (plugin) return plugin;
  const refusing = group.find((t) => t.refuse);
  throw new UsageError(refusing?.refuse?.(mesh, group.map((t) => t.runsWhat)) ?? `--mesh ${mesh}: --target ${target} does not run it`);
}

/**
 * Before anything starts: the options given belong to this target, each passes its own check, and
 * the target's checks pass (the mesh's version, the options together, the tools it needs).
 */
export async function checkTarget(plugin: TargetPlugin, c: TargetCheck): Promise<void> {
  const own = plugin.options();
  const foreign = Object.keys(c.options).filter((k) => c.options[k] !== undefined && !own.some((o) => o.name === k));
  if (foreign.length) {
    const all = targetOptions();
    const owners = foreign.map((k) => all.find((o) => o.spec.name === k));
    const flags = owners.map((o, i) => (o ? flagName(o.spec) : foreign[i]!));
    const targets = [...new Set(owners.map((o) => o?.target).filter((t) => t !== undefined))];
    throw new UsageError(`${flags.join(', ')} ${flags.length === 1 ? 'is' : 'are'} for --target ${targets.join(' or ') || 'another target'}`);
  }
  for (const o of own) {
    const v = c.options[o.name];
    const why = v === undefined ? undefined : o.check?.(v);
    if (why) throw new UsageError(why);
  }
  await plugin.check(c);
}
