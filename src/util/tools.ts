import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { InfraError } from '../errors.js';
import { PACKAGE_ROOT } from './package-root.js';

/** Where the build scripts (scripts/build-*.sh) put the binaries they build: the tools cache. */
export function toolsBin(): string {
  const root = process.env.MESHCHECK_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'meshcheck', 'tools');
  return join(root, 'bin');
}

/** Every tool the build scripts make, each with its script: each script names its tools on a "# tools:" line. */
export function builtTools(): { name: string; script: string }[] {
  const dir = join(PACKAGE_ROOT, 'scripts');
  const out: { name: string; script: string }[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.sh')).sort()) {
    const line = /^# tools: (.*)$/m.exec(readFileSync(join(dir, f), 'utf8'));
    for (const name of line?.[1]!.split(/\s+/).filter(Boolean) ?? []) out.push({ name, script: `scripts/${f}` });
  }
  return out;
}

/** The script that builds a tool. */
export function buildScriptOf(name: string): string {
  return builtTools().find((t) => t.name === name)?.script ?? 'scripts/setup.sh';
}

/** Path of a built tool, or an error that says how to build it. */
export function tool(name: string): string {
  const p = join(toolsBin(), name);
  if (!existsSync(p)) throw new InfraError(`${name} is not built (looked in ${toolsBin()}); run: bash ${buildScriptOf(name)} (or npm run setup)`);
  return p;
}

/**
 * Istio's files from the source a built istiod comes from (its charts, the Envoy bootstrap template),
 * which scripts/build-istio.sh copies to a folder named by the module version; found by the commit
 * that version ends with. Undefined when there is none.
 */
export function istioFilesDir(commit: string | undefined, root = join(dirname(toolsBin()), 'istio-charts')): string | undefined {
  if (!commit || !existsSync(root)) return undefined;
  const found = readdirSync(root).find((d) => d.endsWith(`-${commit}`));
  return found ? join(root, found) : undefined;
}

/**
 * Open Service Mesh's version built by scripts/build-osm.sh (the stamp beside its binaries), and the
 * chart and CRDs it copied from the same module. The version is "unbuilt" when there is no stamp.
 */
export function osmFiles(bin = toolsBin()): { version: string; chart: string; crds: string } {
  const stamp = join(bin, 'osm.version');
  const version = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : 'unbuilt';
  const dir = join(dirname(bin), 'osm-files', version);
  return { version, chart: join(dir, 'osm'), crds: join(dir, 'crds') };
}
