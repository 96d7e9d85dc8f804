/**
 * The process-group leader of a local run. meshcheck starts it detached (its own session and
 * process group) and asks it over IPC to start every other child, so all of them share one process
 * group that `kill(-pgid)` stops at once, and a terminal Ctrl-C reaches only meshcheck, which
 * cleans up in order.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';

interface SpawnRequest {
  id: number;
  command: string;
  args: string[];
  logFile: string;
  /** Wait for a `READY <json>` line on stdout before answering. */
  readyLine: boolean;
}

process.on('SIGINT', () => undefined);

process.on('message', (msg: SpawnRequest) => {
  const log = openSync(msg.logFile, 'a');
  const child = spawn(msg.command, msg.args, { stdio: ['ignore', msg.readyLine ? 'pipe' : log, log] });
  const answer = (body: object) => process.send?.({ id: msg.id, pid: child.pid, ...body });
  child.on('error', (err) => answer({ error: err.message }));
  child.on('exit', (code, signal) => answer({ exited: { code, signal } }));
  if (!msg.readyLine) return answer({ ready: {} });
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const m = /^READY (.*)$/m.exec(buf);
    if (m) {
      answer({ ready: JSON.parse(m[1]!) });
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
    }
  });
});

// Stay alive while meshcheck is connected; after it goes away, stay as the group leader so
// `meshcheck cleanup` can find the group by its id in the ledger.
process.on('disconnect', () => setInterval(() => undefined, 1 << 30));
