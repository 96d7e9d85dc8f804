import { rmSync } from 'node:fs';
import { Ledger } from '../ledger/ledger.js';
import { killGroup } from '../targets/local/process-group.js';
import { deleteNamespace, kubeClient } from '../targets/kube/kube-target.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Undoes what a run's ledger records, newest first; returns what was done. */
export async function undoLedger(file: string): Promise<string[]> {
  const done: string[] = [];
  const entries = Ledger.read(file).reverse();
  for (const e of entries) {
    if (e.op === 'process-group') {
      if (await killGroup(e.pgid)) done.push(`stopped process group ${e.pgid} (${e.what})`);
    } else if (e.op === 'directory') {
      rmSync(e.path, { recursive: true, force: true });
      done.push(`removed ${e.path} (${e.what})`);
    } else if (e.op === 'kube-namespace') {
      if (await deleteNamespace(kubeClient({ context: e.context, kubeconfig: e.kubeconfig }), e.name)) done.push(`deleted namespace ${e.name} (context ${e.context})`);
    }
  }
  rmSync(file, { force: true });
  return done;
}

/** Ledgers of runs whose meshcheck process is gone (crashed or killed). */
export function orphanLedgers(): { runId: string; file: string }[] {
  return Ledger.list().filter(({ file }) => {
    const run = Ledger.read(file).find((e) => e.op === 'run');
    return !run || run.op !== 'run' || !alive(run.pid);
  });
}
