import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, tmpOut } from './cli.js';

/** What the suite tests read of a run record. */
export interface SuiteRecord {
  schema: string;
  engine: string;
  scenarios: {
    name: string;
    capability: string;
    outcome: string;
    infrastructure?: string[];
    verdicts: { outcome: string; samples: number; explanation: string }[];
    loads: { health?: { healthy: boolean; reasons: string[]; machine: { otherCpuCores: number; cpuPressure: number | null; measured: boolean } } }[];
  }[];
  histograms: { hdr: string; durationMs?: number }[];
  convergenceMs: number[];
  overhead: { engine: string; samples: { mesh: number }; conditions?: Record<string, unknown> }[];
}

/** A reason a verdict may give for INCONCLUSIVE that is the machine's or the budget's, not the mesh's. */
const MACHINE_OR_BUDGET = /load generator behind \/ machine busy|more requests needed|more requests at this share|baseline itself moved|send more requests/;

/**
 * Whether one of a scenario's loads measured the host taking cores for other guests (steal over its
 * bound). A busy process inside the machine does not count: the suite must pass beside one.
 */
export function measuredSteal(s: SuiteRecord['scenarios'][number]): boolean {
  return s.loads.some((l) => l.health?.machine.measured === true && l.health.reasons.some((r) => r.startsWith('machine busy: the host took')));
}

/**
 * What the bundled suite guarantees on any machine of this kind, busy or not: no scenario FAILED or
 * BROKEN, every scenario not PASSED is INCONCLUSIVE with a verdict that names the machine or the
 * request budget, and at least `minPassed` PASSED. A scenario that went INCONCLUSIVE while one of its
 * loads measured the host's steal over its bound (with the figures) lowers that minimum by one, never
 * below `floor`: a host that takes most of the cores for other guests makes more scenarios
 * INCONCLUSIVE, and that is the honest answer, but a suite that mostly ends INCONCLUSIVE still fails
 * here, and so does one where a process beside meshcheck (no steal) costs more than the minimum.
 */
export function honestSuite(record: SuiteRecord, minPassed: number, floor = Math.ceil(minPassed * 0.75)): { passed: number; problems: string[] } {
  const problems: string[] = [];
  let passed = 0;
  let busy = 0;
  for (const s of record.scenarios) {
    if (s.outcome === 'PASSED') {
      passed++;
      continue;
    }
    if (s.outcome !== 'INCONCLUSIVE') {
      problems.push(`${s.name}: ${s.outcome}: ${s.verdicts.map((v) => v.explanation).join(' | ')}`);
      continue;
    }
    const why = s.verdicts.filter((v) => v.outcome === 'INCONCLUSIVE');
    if (why.length === 0 || !why.every((v) => MACHINE_OR_BUDGET.test(v.explanation))) problems.push(`${s.name}: INCONCLUSIVE without a machine or budget reason: ${why.map((v) => v.explanation).join(' | ')}`);
    else if (measuredSteal(s)) busy++;
  }
  const required = Math.max(floor, minPassed - busy);
  if (passed < required) problems.push(`only ${passed} of ${record.scenarios.length} scenarios PASSED (at least ${required} expected: ${minPassed}, less ${busy} INCONCLUSIVE while the host's steal was over its bound, never below ${floor})`);
  return { passed, problems };
}

/** A busy loop in another process, keeping one core busy until stopped. */
export function busyLoop(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

/**
 * Runs the bundled suite through the CLI and checks it against honestSuite(): the problems found (none
 * expected), the exit code (0 when every scenario passed, else 1), the record and the run folder.
 */
export async function runHonestSuite(
  extra: string[] = [],
): Promise<{ problems: string[]; stderr: string; code: number | null; expectedCode: number; record: SuiteRecord; out: string }> {
  const out = tmpOut();
  const run = startCli(['run', '--out', out, '--no-progress', ...extra]);
  const code = await run.done;
  const record = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as SuiteRecord;
  const { passed, problems } = honestSuite(record, 13);
  return { problems, stderr: problems.length ? run.stderr : '', code, expectedCode: passed === record.scenarios.length ? 0 : 1, record, out };
}
