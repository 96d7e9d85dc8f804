import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { undoLedger } from './cleanup.js';

describe('meshcheck cleanup on a ledger with applied objects', () => {
  test("skips objects of the run's own API server and of a server whose kubeconfig is gone; marks nothing done twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshcheck-ledger-'));
    const file = join(dir, 'run.jsonl');
    const work = mkdtempSync(join(tmpdir(), 'meshcheck-work-'));
    const lines = [
      { seq: 1, op: 'run', runId: 'r', pid: 1, startedAt: '' },
      { seq: 2, op: 'directory', path: work, what: 'work' },
      { seq: 3, op: 'kube-object', kubeconfig: join(work, 'kubeconfig'), ownServer: true, object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'n' } }, prior: null },
      { seq: 4, op: 'kube-object', kubeconfig: join(dir, 'missing-kubeconfig'), object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', namespace: 'n' } }, prior: null },
      { seq: 5, op: 'kube-object', kubeconfig: join(dir, 'missing-kubeconfig'), object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'c', namespace: 'n' } }, prior: null },
      { seq: 6, op: 'done', ref: 5 },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const done = await undoLedger(file);
    expect(done).toEqual([`removed ${work} (work)`]);
    expect(existsSync(work)).toBe(false);
    expect(existsSync(file)).toBe(false);
  });
});
