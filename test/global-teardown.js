// Undoes what the jest run's own meshcheck runs left recorded (a test that failed half-way: a node, a
// process group), then removes the run's temporary folder (test/global-setup.js). Removing it first
// would delete the ledgers and leave what they record running, mounted and configured.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export default function teardown() {
  const root = process.env.MESHCHECK_TEST_TMP_ROOT;
  if (!root || !existsSync(root)) return;
  for (const d of readdirSync(root)) {
    const ledgers = join(root, d, 'ledgers');
    if (!existsSync(ledgers) || readdirSync(ledgers).length === 0) continue;
    try {
      const out = execFileSync(process.execPath, ['bin/meshcheck.js', 'cleanup'], { env: { ...process.env, MESHCHECK_STATE_DIR: join(root, d), NODE_OPTIONS: '' }, encoding: 'utf8' });
      // Tests that keep a ledger of their own on purpose leave ones with nothing to undo: not worth a line.
      const did = out.split('\n').filter((l) => l && !/: nothing left$|^nothing to clean up/.test(l));
      if (did.length) process.stderr.write(`test teardown: cleaned up what tests left in ${join(root, d)}:\n${did.join('\n')}\n`);
    } catch (err) {
      process.stderr.write(`test teardown: meshcheck cleanup in ${join(root, d)} failed: ${err.message}\n`);
    }
  }
  rmSync(root, { recursive: true, force: true });
}
