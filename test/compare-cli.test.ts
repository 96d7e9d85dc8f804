import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { record } from './helpers/records.js';
import { startCli, tmpOut } from './helpers/cli.js';

function runDir(r: ReturnType<typeof record>): string {
  const dir = join(tmpOut(), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run-record.json'), JSON.stringify(r));
  return dir;
}

describe('meshcheck compare', () => {
  const base = runDir(record(5));

  it('exits 0 on identical runs and on noise alone', async () => {
    for (const cand of [runDir(record(5)), runDir(record(7))]) {
      const c = startCli(['compare', base, cand]);
      expect(await c.done).toBe(0);
      expect(c.stdout).toContain('no significant p99 regression beyond +10.0%');
    }
  });

  it('exits 1 on a 30% p99 regression, and names it', async () => {
    const c = startCli(['compare', base, runDir(record(6, 1.3)), '--max-p99-regression', '10%']);
    expect(await c.done).toBe(1);
    expect(c.stdout).toMatch(/REGRESSION {2}Traffic is split #1: p99 .* \(\+\d+\.\d%/);
  });

  it('exits 2 on a bad threshold or a folder without a run record', async () => {
    const bad = startCli(['compare', base, base, '--max-p99-regression', 'ten']);
    expect(await bad.done).toBe(2);
    expect(bad.stderr).toContain('--max-p99-regression ten: expected a percentage');
    const missing = startCli(['compare', base, tmpOut()]);
    expect(await missing.done).toBe(2);
    expect(missing.stderr).toMatch(/run-record\.json: no run record here/);
  });
});
