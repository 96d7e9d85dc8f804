// The tests' temporary folders (run folders, state folders, charts, k6 job dirs) all go under one
// folder per jest run, which test/global-teardown.js removes: jest sets TMPDIR here, before its
// workers start, so os.tmpdir() in the tests and in the processes they spawn lands there.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup() {
  const root = mkdtempSync(join(tmpdir(), 'meshcheck-tests-'));
  process.env.MESHCHECK_TEST_TMP_ROOT = root;
  process.env.TMPDIR = root;
}
