import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, tmpOut } from './helpers/cli.js';

/*
 * Verdict power (ADR 0002), through the CLI: a one-sided claim decided on one-sided bounds, and a
 * budget checked against its claim before the load, by `plan` and by `run`.
 */

test('the held-out case: a failing instance hidden by retries, "fewer than 2%" of 300 responses, PASSES on the reference mesh', async () => {
  const out = tmpOut();
  const run = startCli(['run', 'test/fixtures/power/held-out.feature', '--out', out, '--no-progress']);
  expect(await run.done).toBe(0);
  const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as { scenarios: { outcome: string; verdicts: { outcome: string; interval: { oneSided?: boolean } }[] }[] };
  expect(record.scenarios[0]!.outcome).toBe('PASSED');
  expect(record.scenarios[0]!.verdicts[0]!.interval.oneSided).toBe(true);
}, 120_000);

test('plan prints what each load\'s budget can decide, and names a budget too small for its claim with the one that would do', async () => {
  const plan = startCli(['plan', 'test/fixtures/power', 'features/circuit-breaking.feature']);
  expect(await plan.done).toBe(0);
  expect(plan.stdout).toMatch(/"fewer than 5% of responses have status 503": with 600 requests, PASSES when the true share is [\d.]+% or less, FAILS when it is [\d.]+% or more/);
  expect(plan.stdout).toMatch(/"fewer than 1% of responses have status 503": cannot PASS with 300 requests even when no response matches.*\n {2}WARNING: 300 requests cannot pass it even when no response matches; \d+ would/);
  expect(plan.stdout).toMatch(/^Budgets that cannot decide their claim:\n- test\/fixtures\/power\/too-small\.feature:4 /m);
}, 60_000);

test('run warns before a load whose budget cannot decide its claim, and the claim ends INCONCLUSIVE, not FAILED', async () => {
  const out = tmpOut();
  const run = startCli(['run', 'test/fixtures/power/too-small.feature', '--out', out, '--no-progress']);
  expect(await run.done).toBe(1);
  expect(run.stderr).toMatch(/warning: Fewer than 1% of 300 responses: "fewer than 1% of responses have status 503": 300 requests cannot pass it even when no response matches; \d+ would/);
  const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as { scenarios: { outcome: string; verdicts: { explanation: string }[] }[] };
  expect(record.scenarios[0]!.outcome).toBe('INCONCLUSIVE');
  expect(record.scenarios[0]!.verdicts[0]!.explanation).toMatch(/about \d+ more requests needed/);
}, 120_000);
