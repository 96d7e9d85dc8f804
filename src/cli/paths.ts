import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/package-root.js';

export { PACKAGE_ROOT };
export const STEPS_GLOB = join(PACKAGE_ROOT, 'dist', 'steps', '**', '*.js');
export const DEFAULT_FEATURES = join(PACKAGE_ROOT, 'features');
