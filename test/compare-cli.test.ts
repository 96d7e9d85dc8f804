import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { record } from './helpers/records.js';
import { startCli, tmpOut } from './helpers/cli.js';

function runDir(r: ReturnType<typeof record>): string {
  const dir = join(tmpOut(), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run-record.json'), JSON.stringify(r));
  return dir;
}

describe('meshcheck gate (alias compare)', () => {
  const base = runDir(record(5));

  it('exits 0 on identical runs and on noise alone', async () => {
    for (const [cmd, cand] of [['gate', runDir(record(5))], ['compare', runDir(record(7))]] as const) {
      const c = startCli([cmd, base, cand]);
      expect(await c.done).toBe(0);
      expect(c.stdout).toContain('**PASS: no significant regression beyond the thresholds (exit 0; 9 figures, 0 verdicts compared)**');
    }
  });

  it('exits 1 on a 30% latency regression, names it, and writes Markdown, JSON and HTML with --out', async () => {
    const out = join(tmpOut(), 'gate');
    const c = startCli(['gate', base, runDir(record(6, 1.3)), '--max-latency-regression', '10%', '--out', out]);
    expect(await c.done).toBe(1);
    expect(c.stdout).toMatch(/^- latency: Traffic is split #1 p99 \(reviews; 2000 \/ 2000 samples\): .* \(\+\d+\.\d%\)$/m);
    expect(readFileSync(join(out, 'gate.md'), 'utf8')).toBe(c.stdout);
    expect(JSON.parse(readFileSync(join(out, 'gate.json'), 'utf8'))).toMatchObject({ code: 1, thresholds: { latency: 0.1 } });
    expect(existsSync(join(out, 'gate.html'))).toBe(true);
    expect(c.stderr).toContain(`gate: ${join(out, 'gate.html')}`);
  });

  it('takes a second baseline run (--baseline-again) and a stall length (--stall)', async () => {
    const cand = runDir(record(6, 1.3));
    const both = startCli(['gate', base, cand, '--baseline-again', runDir(record(7, 1.3)), '--stall', '0ms']);
    expect(await both.done).toBe(0);
    expect(both.stdout).toMatch(/^Baseline run-5 \(reference, local, embedded\) and again run-7 /m);
    const badStall = startCli(['gate', base, cand, '--stall', 'long']);
    expect(await badStall.done).toBe(2);
    expect(badStall.stderr).toContain('--stall long: expected milliseconds');
    const missing = startCli(['gate', base, cand, '--baseline-again', tmpOut()]);
    expect(await missing.done).toBe(2);
    expect(missing.stderr).toMatch(/run-record\.json: no run record here/);
  });

  it('exits 2 on a bad threshold, a folder without a run record, or runs of other scenarios', async () => {
    const bad = startCli(['gate', base, base, '--max-latency-regression', 'ten']);
    expect(await bad.done).toBe(2);
    expect(bad.stderr).toContain('--max-latency-regression ten: expected a percentage');
    const badMs = startCli(['gate', base, base, '--max-added-latency', 'slow']);
    expect(await badMs.done).toBe(2);
    expect(badMs.stderr).toContain('--max-added-latency slow: expected milliseconds');
    const missing = startCli(['gate', base, tmpOut()]);
    expect(await missing.done).toBe(2);
    expect(missing.stderr).toMatch(/run-record\.json: no run record here/);
    const other = record(5);
    other.scenarios.pop();
    const unusable = startCli(['gate', base, runDir(other)]);
    expect(await unusable.done).toBe(2);
    expect(unusable.stdout).toContain('UNUSABLE: the runs cannot be gated (exit 2): scenarios only in the baseline: Retries hide a failure');
  });
});
