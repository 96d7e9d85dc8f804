// Removes the jest run's temporary folder (test/global-setup.js).
import { rmSync } from 'node:fs';

export default function teardown() {
  const root = process.env.MESHCHECK_TEST_TMP_ROOT;
  if (root) rmSync(root, { recursive: true, force: true });
}
