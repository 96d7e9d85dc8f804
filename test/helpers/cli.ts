import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Jest runs from the package root. */
export const ROOT = process.cwd();
export const BIN = join(ROOT, 'bin', 'meshcheck.js');

export interface CliRun {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  done: Promise<number | null>;
  /**
   * Resolves once the CLI's stdout and stderr are closed: a process it left behind that still holds
   * them (a launcher it did not stop) keeps them open, and with them the test runner.
   */
  closed: Promise<void>;
  stateDir: string;
}

/** Starts the real CLI with its own ledger directory so tests never see each other's runs. */
export function startCli(args: string[], stateDir = mkdtempSync(join(tmpdir(), 'meshcheck-state-')), env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, MESHCHECK_STATE_DIR: stateDir, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: CliRun = {
    child, stdout: '', stderr: '', stateDir,
    done: new Promise((r) => child.on('exit', (code) => r(code))),
    closed: new Promise((r) => child.on('close', () => r())),
  };
  // A process the CLI left behind holding its stdout or stderr would keep this test process alive
  // after the last test: the pipes are let go some seconds after the exit, and the stderr says so.
  child.on('exit', () => {
    const t = setTimeout(() => {
      run.stderr += '\n[test helper] stdout/stderr still open 10 s after meshcheck exited: a process it started still holds them\n';
      child.stdout!.destroy();
      child.stderr!.destroy();
    }, 10_000);
    t.unref();
    child.on('close', () => clearTimeout(t));
  });
  child.stdout!.on('data', (d: Buffer) => (run.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (run.stderr += d.toString()));
  return run;
}

/** The CLI's exit code, or an error with the end of its stderr if it has not exited within `ms` (the test can say why). */
export async function doneWithin(run: CliRun, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`meshcheck did not exit within ${ms} ms; its stderr ends:\n${run.stderr.split('\n').slice(-30).join('\n')}`)), ms);
  });
  try {
    return await Promise.race([run.done, late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function tmpOut(): string {
  return mkdtempSync(join(tmpdir(), 'meshcheck-out-'));
}

/** The process group ids recorded in the ledgers of a state directory. */
export function ledgerGroups(stateDir: string): number[] {
  const dir = join(stateDir, 'ledgers');
  const out: number[] = [];
  for (const f of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)) {
      const e = JSON.parse(line) as { op: string; pgid?: number };
      if (e.op === 'process-group' && e.pgid) out.push(e.pgid);
    }
  }
  return out;
}
