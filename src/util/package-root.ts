import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** meshcheck's package root: the nearest folder above this file (source or build) whose package.json is meshcheck's. */
function findRoot(): { root: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'meshcheck') return { root: dir, version: pkg.version };
    }
    if (dirname(dir) === dir) throw new Error(`meshcheck's package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = dirname(dir);
  }
}

const found = findRoot();
export const PACKAGE_ROOT = found.root;
export const MESHCHECK_VERSION = found.version;
