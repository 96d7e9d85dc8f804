import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/package-root.js';

/** Where the echo workload's script is, in the package (source and build alike). */
export const ECHO_SCRIPT_FILE = join(PACKAGE_ROOT, 'src', 'workload', 'echo.mjs');

let script: string | undefined;

/** The echo workload's script (echo.mjs), as the cluster's ConfigMap carries it. */
export function echoScript(): string {
  script ??= readFileSync(ECHO_SCRIPT_FILE, 'utf8');
  return script;
}
