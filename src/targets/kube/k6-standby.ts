/**
 * k6 from a running pod: around a control-plane outage a sidecar mesh's new pod cannot start (its
 * injector and its certificate authority are the control plane), so a meshed k6 pod is started before
 * the outage and each load is a `k6 run` started in it through pods/exec. Its output comes back on the
 * exec's stdout, in the same form a Job's log has (load/k6.ts reads both).
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { InfraError } from '../../errors.js';
import { execOutput } from '../../kube/exec.js';
import { obj, type K8sObject } from '../../kube/objects.js';
import { ready, whyNotReady } from '../../kube/pods.js';
import { imageRef } from '../../kube/images.js';
import { k6Env, k6OutputOfLog, K6_SCRIPTS, type K6Output } from '../../load/k6.js';
import type { LoadProfile } from '../../load/profile.js';
import type { RenderContext } from '../../meshes/types.js';
import { eventually } from '../../util/eventually.js';
import { K6_IMAGE, LOAD_LABEL, type LoadPod } from './k6-job.js';

/** How long the standby pod may take to be Ready (its sidecar's config and certificate included). */
const READY_MS = 120_000;

/** The standby pod and its script: meshed as `pod`, idle until a load is started in it. */
export function k6StandbyObjects(o: { ctx: RenderContext; name: string; pod: LoadPod; image?: string }): K8sObject[] {
  return [
    obj(o.ctx, 'v1', 'ConfigMap', `${o.name}-script`, { data: { 'requests.js': readFileSync(K6_SCRIPTS.requests, 'utf8') } }),
    obj(o.ctx, 'v1', 'Pod', o.name, {
      spec: {
        restartPolicy: 'Never', ...(o.pod.serviceAccountName ? { serviceAccountName: o.pod.serviceAccountName } : {}),
        // Idle for at most a day: the pod is deleted with the outage's undo, or with the namespace.
        containers: [{
          name: 'k6', image: imageRef(o.image ?? K6_IMAGE, o.ctx.imageMirror), command: ['sh', '-c', 'exec sleep 86400'],
          env: [{ name: 'K6_NO_USAGE_REPORT', value: 'true' }], volumeMounts: [{ name: 'scripts', mountPath: '/scripts' }],
        }],
        volumes: [{ name: 'scripts', configMap: { name: `${o.name}-script` } }],
      },
    }, { labels: { ...o.pod.labels, [LOAD_LABEL]: o.name }, ...(o.pod.annotations ? { annotations: o.pod.annotations } : {}) }),
  ];
}

/** Waits until the standby pod is Ready (its sidecar too), or says why it is not; returns its node. */
export async function standbyReady(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  let why = 'not created yet';
  try {
    return await eventually(async () => {
      const p = await core.readNamespacedPod({ name, namespace }).catch(() => undefined);
      if (p) why = whyNotReady(p);
      return p !== undefined && ready(p) ? p.spec!.nodeName! : undefined;
    }, { timeoutMs: READY_MS, intervalMs: 250, describe: `the standby k6 pod ${namespace}/${name} Ready` });
  } catch (err) {
    throw new InfraError(`${(err as Error).message}: ${why}`);
  }
}

/**
 * One load as `k6 run` in the standby pod, its settings in the environment of a shell; `onStart` is
 * called once the process has started (its first output).
 */
export async function k6InPod(kc: KubeConfig, namespace: string, pod: string, p: LoadProfile, url: string, onStart: () => void): Promise<K6Output> {
  const env = Object.entries(k6Env(p, { url, summary: 'stdout' })).map(([k, v]) => `${k}='${v.replaceAll("'", "'\\''")}'`).join(' ');
  const { out: log, code, stderr } = await execOutput(kc, namespace, pod, 'k6', ['sh', '-c', `env ${env} k6 run --quiet --no-color --address '' --out json=- /scripts/requests.js`], onStart);
  if (code === null && !log) throw new InfraError(`k6 in the standby pod ${namespace}/${pod} ended with no output: ${stderr || 'the exec stream closed'}`);
  return k6OutputOfLog(log, code);
}
