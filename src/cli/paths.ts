import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The package root (where package.json, features/ and dist/ live), wherever meshcheck is run from. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const STEPS_GLOB = join(PACKAGE_ROOT, 'dist', 'steps', '**', '*.js');
export const DEFAULT_FEATURES = join(PACKAGE_ROOT, 'features');
