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

  it('Ctrl-C while the target is starting: no scenario runs, nothing is left, exit 130', async () => {
    const run = startCli(['run', 'test/fixtures/long', '--out', tmpOut()]);
    // The last moments of the start: its processes are up (leader, 6 sidecars, 5 workloads), the
    // route push to them still to come. Every group the ledger records is watched until the exit.
    const seen = new Set<number>();
    const groups = () => {
      try {
        for (const g of ledgerGroups(run.stateDir)) seen.add(g);
      } catch { /* no ledger yet, or gone */ }
      return [...seen];
    };
    await waitFor(() => groups().some((g) => groupPids(g).length >= 12), 60_000, 'the target\'s processes to be up');
    const watch = setInterval(groups, 20);
    run.child.kill('SIGINT');
    const code = await run.done;
    clearInterval(watch);
    await run.closed;
    expect(code).toBe(130);
    const after = run.stderr.slice(run.stderr.indexOf('SIGINT: cleaning up'));
    // Before the ledger was sealed at the signal, the start went on into the first scenario's load.
    expect(after).not.toMatch(/Long load|BROKEN|->/);
    expect(run.stderr).not.toMatch(/\[test helper\]/);
    for (const g of seen) expect(groupPids(g)).toEqual([]);
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
