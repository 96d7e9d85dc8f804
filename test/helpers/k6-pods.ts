import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { K8sObject } from '../../src/kube/objects.js';
import { tool } from '../../src/util/tools.js';

type Container = { command: string[]; env?: { name: string; value: string }[] };
type JobObjects = [{ data: Record<string, string> }, { spec: { completions: number; template: { spec: { containers: Container[] } } } }];

/**
 * What each pod of a k6 Job (or the plaintext probe's) prints (its log), made here: the pods' own command, run at once with the
 * real k6 binary, with the Job's ConfigMap written to a local folder in place of its mount and the
 * container's environment as the pod would have it.
 */
export async function runK6PodsHere(objects: K8sObject[]): Promise<string[]> {
  const [cm, job] = objects as unknown as JobObjects;
  const dir = mkdtempSync(join(tmpdir(), 'meshcheck-k6-job-'));
  for (const [f, text] of Object.entries(cm.data)) writeFileSync(join(dir, f), text);
  const container = job.spec.template.spec.containers[0]!;
  const [sh, flag, command] = container.command as [string, string, string];
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
  return Promise.all(Array.from({ length: job.spec.completions }, async (_, i) => {
    const r = await promisify(execFile)(sh, [flag, command.replaceAll('/scripts/', `${dir}/`)], { env: { ...process.env, ...env, JOB_COMPLETION_INDEX: String(i), PATH: `${dirname(tool('k6'))}:${process.env.PATH}` }, encoding: 'utf8', maxBuffer: 64 << 20 });
    return r.stdout;
  }));
}
