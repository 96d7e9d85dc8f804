import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InfraError } from '../errors.js';

/** Where scripts/build-kube-tools.sh (and the k6 install) put the binaries they build. */
export function toolsBin(): string {
  const root = process.env.MESHCHECK_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'meshcheck', 'tools');
  return join(root, 'bin');
}

/** Path of a built tool, or an error that says how to build it. */
export function tool(name: string): string {
  const p = join(toolsBin(), name);
  const script = name === 'k6' ? 'scripts/build-k6.sh' : name === 'pilot-discovery' || name === 'meshcheck-proxyless' ? 'scripts/build-istio.sh' : 'scripts/build-kube-tools.sh';
  if (!existsSync(p)) throw new InfraError(`${name} is not built (looked in ${toolsBin()}); run: bash ${script} (or npm run setup)`);
  return p;
}
