/** An interrupt while the target starts: no scenario gets the run. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterruptedError } from '../errors.js';
import { localPlugin } from '../targets/local/plugin.js';
import type { Target } from '../targets/ports.js';
import { openRun, Run } from './run.js';
import { settingsFrom } from './settings.js';

let dir: string;
const start = localPlugin.start;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'meshcheck-run-test-'))));
afterEach(() => {
  localPlugin.start = start;
  rmSync(dir, { recursive: true, force: true });
});

test('interrupted while the target starts: Run.open ends in InterruptedError, and no run is handed to scenarios', async () => {
  const settings = { ...settingsFrom({}), out: join(dir, 'out') };
  process.env.MESHCHECK_STATE_DIR = dir;
  try {
    // The signal arrives while the target is still coming up (its start then finishes regardless).
    localPlugin.start = async () => {
      openRun(settings.runId)!.ledger.seal('interrupted (SIGINT)');
      return {} as Target;
    };
    await expect(Run.open(settings, () => undefined)).rejects.toThrow(new InterruptedError('interrupted (SIGINT): the run stops before its first scenario'));
    expect(openRun(settings.runId)!.run).toBeUndefined();
  } finally {
    delete process.env.MESHCHECK_STATE_DIR;
  }
});
