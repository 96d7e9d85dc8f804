import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ledgerGroups, startCli, tmpOut, waitFor } from './helpers/cli.js';
import { groupPids, listeningPorts, portListening } from './helpers/procs.js';

async function startLongRun() {
  const run = startCli(['run', 'test/fixtures/long', '--out', tmpOut()]);
  // The progress line appears once load is flowing: the scenario is in the middle of its load.
  await waitFor(() => /Long load: .* sent \d+/.test(run.stderr), 60_000, 'the load to start');
  const [pgid] = ledgerGroups(run.stateDir);
  const pids = groupPids(pgid!);
  const ports = listeningPorts(pids);
  expect(pids.length).toBeGreaterThanOrEqual(12);
  expect(ports.length).toBeGreaterThanOrEqual(20);
  return { run, pgid: pgid!, pids, ports };
}

describe('nothing is left behind', () => {
  it('Ctrl-C in the middle of a scenario cleans up and exits 130', async () => {
    const { run, pgid, ports } = await startLongRun();
    run.child.kill('SIGINT');
    expect(await run.done).toBe(130);
    expect(groupPids(pgid)).toEqual([]);
    expect(ports.filter(portListening)).toEqual([]);
    expect(readdirSync(join(run.stateDir, 'ledgers'))).toEqual([]);
  }, 90_000);

  it('after SIGKILL, `meshcheck cleanup` removes what the run left', async () => {
    const { run, pgid, ports } = await startLongRun();
    run.child.kill('SIGKILL');
    await run.done;
    // Killed without a chance to clean up: its processes are still there.
    expect(groupPids(pgid).length).toBeGreaterThan(0);
    const cleanup = startCli(['cleanup', '--orphans'], run.stateDir);
    expect(await cleanup.done).toBe(0);
    expect(cleanup.stdout).toMatch(new RegExp(`stopped process group ${pgid}`));
    expect(groupPids(pgid)).toEqual([]);
    expect(ports.filter(portListening)).toEqual([]);
    expect(existsSync(join(run.stateDir, 'ledgers')) ? readdirSync(join(run.stateDir, 'ledgers')) : []).toEqual([]);
  }, 90_000);
});
