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
  stateDir: string;
}

/** Starts the real CLI with its own ledger directory so tests never see each other's runs. */
export function startCli(args: string[], stateDir = mkdtempSync(join(tmpdir(), 'meshcheck-state-'))): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, MESHCHECK_STATE_DIR: stateDir, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: CliRun = { child, stdout: '', stderr: '', stateDir, done: new Promise((r) => child.on('exit', (code) => r(code))) };
  child.stdout!.on('data', (d: Buffer) => (run.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (run.stderr += d.toString()));
  return run;
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
