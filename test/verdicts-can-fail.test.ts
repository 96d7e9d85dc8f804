import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, tmpOut } from './helpers/cli.js';

interface Scenario {
  name: string;
  outcome: string;
  verdicts: { outcome: string; infrastructure?: { withheld: string; reasons: string[] } }[];
}

/**
 * FAILED, or (only when the load was not healthy: a busy shared machine) INCONCLUSIVE with the FAILED
 * the data gave withheld and the machine's reasons. Never PASSED.
 */
function failedOrWithheld(s: Scenario): string {
  if (s.outcome === 'FAILED') return 'FAILED';
  const withheld = s.verdicts.find((v) => v.outcome === 'INCONCLUSIVE' && v.infrastructure?.withheld === 'FAILED' && v.infrastructure.reasons.length > 0);
  return s.outcome === 'INCONCLUSIVE' && withheld ? 'FAILED' : `${s.outcome} (${JSON.stringify(s.verdicts)})`;
}

describe('verdicts can fail', () => {
  it('ends each wrong expectation FAILED and exits 1 (features from another folder)', async () => {
    const out = tmpOut();
    const run = startCli(['run', 'test/fixtures/wrong', '--out', out, '--no-progress']);
    expect(await run.done).toBe(1);
    const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as { scenarios: Scenario[] };
    expect(Object.fromEntries(record.scenarios.map((s) => [s.name, failedOrWithheld(s)]))).toEqual({
      'Wrong share': 'FAILED',
      'Wrong version': 'FAILED',
      'Latency bound too tight': 'FAILED',
    });
  }, 120_000);

  it('rejects an invalid value with exit 2, naming the feature file and line', async () => {
    const run = startCli(['run', 'test/fixtures/invalid', '--out', tmpOut(), '--no-progress']);
    expect(await run.done).toBe(2);
    expect(run.stderr + run.stdout).toMatch(/test\/fixtures\/invalid\/invalid\.feature:3: FaultAbort: abort share 130% is out of range; expected a percentage from 0% to 100%/);
  }, 60_000);

  it('does not pass a scenario that states no verdict', async () => {
    const out = tmpOut();
    const run = startCli(['run', 'test/fixtures/no-verdict', '--out', out, '--no-progress']);
    expect(await run.done).toBe(1);
    const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as { scenarios: { outcome: string }[] };
    expect(record.scenarios.map((s) => s.outcome)).toEqual(['INCONCLUSIVE']);
  }, 60_000);

  it('rejects an unknown option with exit 2', async () => {
    const run = startCli(['run', '--load-engine', 'nope']);
    expect(await run.done).toBe(2);
    expect(run.stderr).toMatch(/--load-engine/);
  });
});
