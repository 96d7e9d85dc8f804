import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, sep } from 'node:path';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { InfraError, InterruptedError } from '../errors.js';
import { timeouts } from '../config.js';
import type { Ledger } from '../ledger/ledger.js';
import { sleep } from '../util/eventually.js';

const BESIDE = fileURLToPath(new URL('./launcher.js', import.meta.url));
// Compiled, the launcher sits beside this file; run from TypeScript sources (tests), use the build's copy.
const LAUNCHER = existsSync(BESIDE) ? BESIDE : BESIDE.replace(`${sep}src${sep}`, `${sep}dist${sep}src${sep}`);

interface Reply {
  id: number;
  pid?: number;
  ready?: Record<string, unknown>;
  error?: string;
  exited?: { code: number | null; signal: string | null };
}

/** All of a local run's child processes, in one process group led by the launcher. */
export class ProcessGroup {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; what: string; log: string }>();
  /** Children started here that have exited, by pid: their exit and log, for a wait that should stop. */
  private readonly exits = new Map<number, { what: string; log: string; code: number | null; signal: string | null }>();
  private readonly started = new Map<number, { what: string; log: string }>();
  private stopped = false;

  private constructor(private readonly leader: ChildProcess, readonly pgid: number, private readonly logDir: string) {
    leader.on('message', (r: Reply) => {
      const w = this.waiting.get(r.id);
      if (r.exited && r.pid) {
        this.exits.set(r.pid, { ...(this.started.get(r.id) ?? { what: `pid ${r.pid}`, log: '' }), ...r.exited });
      }
      if (w && (r.ready || r.error || r.exited)) {
        this.waiting.delete(r.id);
        w.resolve(r);
      }
    });
  }

  /**
   * Starts the group's leader. `what` names the group in the ledger (and in what cleanup says).
   * `ownLog`: the leader's own errors go to a file rather than to meshcheck's stderr, for a group that
   * outlives the command that started it (`cluster up`, see detach).
   */
  static async start(ledger: Ledger, logDir: string, o: { what?: string; ownLog?: string } = {}): Promise<ProcessGroup> {
    const { ownLog, what = 'local target processes' } = o;
    if (ledger.sealed) throw new InterruptedError(`${ledger.sealed}: ${what} not started`);
    const stderr = ownLog ? openSync(ownLog, 'a') : 'inherit';
    const leader = spawn(process.execPath, [LAUNCHER], { detached: true, stdio: ['ignore', 'ignore', stderr, 'ipc'] });
    if (typeof stderr === 'number') closeSync(stderr);
    if (!leader.pid) throw new InfraError('could not start the local process-group launcher');
    // The leader's pid is its group id (detached = new session). Recorded before anything joins it.
    try {
      ledger.record({ op: 'process-group', pgid: leader.pid, what });
    } catch (err) {
      leader.kill('SIGKILL');
      throw err;
    }
    return new ProcessGroup(leader, leader.pid, logDir);
  }

  /** Starts a child and resolves with what it printed on its READY line. */
  async spawn(name: string, command: string, args: string[], readyLine = true): Promise<Record<string, unknown> & { pid: number }> {
    const id = ++this.nextId;
    const log = join(this.logDir, `${name}.log`);
    this.started.set(id, { what: name, log });
    const reply = await new Promise<Reply>((resolve) => {
      this.waiting.set(id, { resolve, what: name, log });
      this.leader.send({ id, command, args, logFile: log, readyLine });
      setTimeout(() => {
        if (this.waiting.delete(id)) resolve({ id, error: `did not report ready within ${timeouts.processStartMs}ms` });
      }, timeouts.processStartMs).unref();
    });
    if (reply.error || reply.exited) {
      const why = reply.error ?? `exited with ${reply.exited?.code ?? reply.exited?.signal}`;
      throw new InfraError(`starting ${name}: ${why} (log: ${log})`);
    }
    return { ...(reply.ready ?? {}), pid: reply.pid! };
  }

  /**
   * Why a child started here is no longer running (its exit, with the end of its log), or undefined
   * while it runs: a wait for it to become ready stops at once instead of running into its timeout.
   */
  exitOf(pid: number): string | undefined {
    const e = this.exits.get(pid);
    if (!e || this.stopped) return undefined;
    let tail = '';
    try {
      tail = readFileSync(e.log, 'utf8').trim().split('\n').slice(-5).join(' | ');
    } catch {
      /* no log */
    }
    return `${e.what} exited with ${e.code ?? e.signal}${tail ? `: ${tail}` : ''} (log: ${e.log})`;
  }

  /**
   * Lets meshcheck exit with the group still running (the real node keeps running after `cluster up`):
   * the leader stays as the group's head, and the group is stopped later by its id (killGroup).
   */
  detach(): void {
    if (this.leader.connected) this.leader.disconnect();
    this.leader.unref();
  }

  /** SIGTERM to the whole group, then SIGKILL after the grace period; waits until the leader is gone. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await killGroup(this.pgid);
    if (this.leader.connected) this.leader.disconnect();
  }
}

/** Stops a process group by id; used by both normal cleanup and `meshcheck cleanup`. */
export async function killGroup(pgid: number): Promise<boolean> {
  if (!groupAlive(pgid)) return false;
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + timeouts.stopGraceMs;
  while (Date.now() < deadline && groupRunning(pgid)) await sleep(25);
  if (groupRunning(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    while (groupRunning(pgid)) await sleep(25);
  }
  return true;
}

/**
 * Whether any process of the group still runs. A process that has exited but is not reaped yet (a
 * zombie: its parent, the launcher, died first and init reaps it in its own time) holds no port and
 * runs nothing; waiting for init cost a second and a half at every stop.
 */
function groupRunning(pgid: number): boolean {
  if (!existsSync('/proc/self/stat')) return groupAlive(pgid);
  for (const d of readdirSync('/proc')) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') return true;
    } catch {
      /* exited meanwhile */
    }
  }
  return false;
}

/**
 * Whether a process runs: it exists (signal 0) and is not a zombie. A killed process whose parent died
 * first stays a zombie until init reaps it, which on some machines takes seconds; it owns nothing.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
