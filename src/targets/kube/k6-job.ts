/**
 * Load in the cluster: the k6 script the local engine runs (load/requests.js), in a ConfigMap, run by
 * the stock k6 image as a Job in the run's namespace (meshed like the load client: its
 * ServiceAccount, the namespace's injection), or as a k6-operator TestRun when that CRD is installed.
 * Each k6 process writes its JSON output (one point per request) and a marked summary line to
 * stdout; meshcheck reads them back from the pods' logs and merges them request by request, as it
 * does for local k6 processes.
 */
import { BatchV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { type K8sObject, obj } from '../../kube/objects.js';
import type { RenderContext } from '../../meshes/types.js';
import { imageRef } from '../../kube/images.js';
import { outsideEveryMesh } from '../../meshes/registry.js';
import { InfraError } from '../../errors.js';
import { readFileSync } from 'node:fs';
import { k6Env, k6ExitMeaning, k6OutputOfLog, K6_SCRIPTS, splitProfile, type K6Output } from '../../load/k6.js';
import type { LoadProfile } from '../../load/profile.js';
import { eventually } from '../../util/eventually.js';

/** The stock k6 image, the version scripts/build-k6.sh builds for the local engine; --k6-image for a mirror. */
export const K6_IMAGE = 'docker.io/grafana/k6:2.2.0';

/** Who a load pod is in the mesh: the caller's labels, annotations and ServiceAccount, or nobody (outside the mesh). */
export interface LoadPod {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  serviceAccountName?: string;
}

export interface K6JobOptions {
  ctx: RenderContext;
  /** Job (or TestRun) name; its ConfigMap is NAME-script. */
  name: string;
  /** The URL the load goes to: http://service:port through the pod's sidecar, or a pod's direct port. */
  url: string;
  /** The pod's identity in the mesh (meshcheck adds its own load label). */
  pod: LoadPod;
  image?: string;
  /** k6 processes at once (pods); the rate and the budget are split between them. */
  parallelism?: number;
  /** Where the pod's sidecar takes a quit request once k6 is done (the adapter's data); meshcheck does not wait for it. */
  quitUrl?: string;
  /** Where the pod's sidecar answers once it has its configuration (the adapter's data): k6 starts after that. */
  readyUrl?: string;
}

/** How long a load's pod waits for its sidecar's configuration before k6 starts anyway (its errors then say why). */
const SIDECAR_READY_WAIT_S = 60;

// json=- is k6's stdout (a pod's log), whatever stdout is.
const ARGS = ['run', '--quiet', '--no-color', '--address', '', '--out', 'json=-'];

/** The label meshcheck puts on a load's pods (the Job's name), to find them. */
export const LOAD_LABEL = 'meshcheck.io/load';

/** The pod of a load as a caller of the app: that caller's pod labels, annotations and ServiceAccount (a Deployment of the workload). */
export function callerPod(workload: readonly K8sObject[], caller: string): LoadPod {
  const d = workload.find((o) => o.kind === 'Deployment' && (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels?.app === caller);
  if (!d) throw new InfraError(`the workload has no Deployment of "${caller}" to send load as`);
  const t = (d.spec as { template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: { serviceAccountName?: string } } }).template;
  return { labels: t.metadata.labels, annotations: t.metadata.annotations, serviceAccountName: t.spec.serviceAccountName };
}

/** A load pod outside the mesh: no sidecar in any of the four meshes. */
export const OUTSIDE: LoadPod = { labels: { app: 'outside-the-mesh', ...outsideEveryMesh().labels }, annotations: { ...outsideEveryMesh().annotations } };

/** A value as a POSIX shell word: single-quoted. */
const shellWord = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;

/** The settings of one k6 process's share as a file the pod's shell reads (one assignment per line). */
function envFile(env: Record<string, string>): string {
  return Object.entries(env).map(([k, v]) => `${k}=${shellWord(v)}\n`).join('');
}

/** The script and one settings file per k6 process, and an Indexed Job whose pod N runs the script with settings N. */
export function k6Job(p: LoadProfile, o: K6JobOptions): K8sObject[] {
  const shares = splitProfile(p, o.parallelism ?? 1);
  const data = {
    'requests.js': readFileSync(K6_SCRIPTS.requests, 'utf8'),
    ...Object.fromEntries(shares.map((share, i) => [`share-${i}.env`, envFile(k6Env(share, { url: o.url, summary: 'stdout' }))])),
  };
  const run = `set -a; . /scripts/share-$JOB_COMPLETION_INDEX.env; set +a; k6 ${ARGS.map((a) => (a === '' ? "''" : a)).join(' ')} /scripts/requests.js; code=$?`;
  // Without it, the first requests of a pod whose mesh starts the app beside an unconfigured sidecar are
  // refused (measured on OSM: 76 of 2000 "connection refused" in the first second).
  const ready = o.readyUrl
    ? `n=0; until wget -q -O- ${o.readyUrl} >/dev/null 2>&1; do n=$((n+1)); if [ $n -ge ${SIDECAR_READY_WAIT_S * 5} ]; then echo "the sidecar was not ready after ${SIDECAR_READY_WAIT_S} s (${o.readyUrl}); starting anyway" >&2; break; fi; sleep 0.2; done; `
    : '';
  const quit = o.quitUrl ? `; wget -q -O- --post-data '' ${o.quitUrl} >/dev/null 2>&1 || true` : '';
  return [
    obj(o.ctx, 'v1', 'ConfigMap', `${o.name}-script`, { data }),
    obj(o.ctx, 'batch/v1', 'Job', o.name, {
      spec: {
        completionMode: 'Indexed', completions: shares.length, parallelism: shares.length, backoffLimit: 0,
        template: {
          metadata: { labels: { ...o.pod.labels, [LOAD_LABEL]: o.name }, ...(o.pod.annotations ? { annotations: o.pod.annotations } : {}) },
          spec: {
            restartPolicy: 'Never', ...(o.pod.serviceAccountName ? { serviceAccountName: o.pod.serviceAccountName } : {}),
            containers: [{
              name: 'k6', image: imageRef(o.image ?? K6_IMAGE, o.ctx.imageMirror), command: ['sh', '-c', `${ready}${run}${quit}; exit $code`],
              env: [{ name: 'K6_NO_USAGE_REPORT', value: 'true' }],
              volumeMounts: [{ name: 'scripts', mountPath: '/scripts' }],
            }],
            volumes: [{ name: 'scripts', configMap: { name: `${o.name}-script` } }],
          },
        },
      },
    }),
  ];
}

/**
 * The same load as a k6-operator TestRun: one script for the whole profile; the operator splits it
 * over `parallelism` runner pods (k6's execution segments), whose logs are read the same way. The
 * runners are meshed as the caller (`o.pod`, which must keep the sidecar off k6's REST port 6565:
 * the operator's starter calls it); the operator's initializer and starter pods are outside the mesh.
 */
export function k6TestRun(p: LoadProfile, o: K6JobOptions): K8sObject[] {
  return [
    obj(o.ctx, 'v1', 'ConfigMap', `${o.name}-script`, { data: { 'requests.js': readFileSync(K6_SCRIPTS.requests, 'utf8') } }),
    obj(o.ctx, 'k6.io/v1alpha1', 'TestRun', o.name, {
      spec: {
        parallelism: Math.max(1, o.parallelism ?? 1),
        script: { configMap: { name: `${o.name}-script`, file: 'requests.js' } },
        arguments: ARGS.slice(1).filter((a) => a !== '' && a !== '--address').join(' '),
        quiet: 'true',
        runner: {
          image: imageRef(o.image ?? K6_IMAGE, o.ctx.imageMirror), ...(o.pod.serviceAccountName ? { serviceAccountName: o.pod.serviceAccountName } : {}),
          metadata: { labels: { ...o.pod.labels, [LOAD_LABEL]: o.name }, ...(o.pod.annotations ? { annotations: o.pod.annotations } : {}) },
          env: [{ name: 'K6_NO_USAGE_REPORT', value: 'true' }, ...Object.entries(k6Env(p, { url: o.url, summary: 'stdout' })).map(([name, value]) => ({ name, value }))],
        },
        initializer: { image: imageRef(o.image ?? K6_IMAGE, o.ctx.imageMirror), metadata: { labels: { ...OUTSIDE.labels }, annotations: { ...OUTSIDE.annotations } } },
        starter: { metadata: { labels: { ...OUTSIDE.labels }, annotations: { ...OUTSIDE.annotations } } },
      },
    }),
  ];
}

/** The port of k6's REST API in a k6-operator runner, which the operator's starter calls. */
export const K6_REST_PORT = 6565;

/** Why a k6 Job failed, from its conditions; undefined while it has not. */
export function jobFailure(kc: KubeConfig, namespace: string, name: string): () => Promise<string | undefined> {
  const batch = kc.makeApiClient(BatchV1Api);
  return async () => {
    const job = await batch.readNamespacedJob({ name, namespace });
    const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    return failed ? `the Job ${name} failed: ${`${failed.reason ?? ''} ${failed.message ?? ''}`.trim()}` : undefined;
  };
}

/** Why a k6-operator TestRun failed (its stage "error", with its conditions); undefined while it has not. */
export function testRunFailure(kc: KubeConfig, namespace: string, name: string): () => Promise<string | undefined> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return async () => {
    const tr = (await api.getNamespacedCustomObject({ group: 'k6.io', version: 'v1alpha1', namespace, plural: 'testruns', name })) as { status?: { stage?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
    if (tr.status?.stage !== 'error') return undefined;
    const said = (tr.status.conditions ?? []).filter((c) => c.message || c.reason).map((c) => `${c.type}: ${c.reason ?? ''} ${c.message ?? ''}`.trim());
    return `the TestRun ${name} ended in stage "error"${said.length ? `: ${said.join('; ')}` : ''}`;
  };
}

/** One pod of a finished Job: its name, its container's log and exit code. */
export interface JobPodLog { pod: string; log: string; code: number | null }

/** Why a container cannot start, from its waiting reason (an image that cannot be pulled, a bad config). */
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

/**
 * Waits until `container` has ended in every pod of a load (`count` pods: a Job's completions, a
 * TestRun's runners), then reads each one's log through the API server (pods/log, which the node's
 * kubelet serves) with the container's exit code. The wait is on the container, not the Job: a
 * meshed pod's sidecar may keep running after it (the quit request is best effort), and the load is
 * deleted afterwards. A load that failed (`failure`: the Job's conditions by default), or a
 * container that cannot start, is an infrastructure error.
 */
export async function jobPodLogs(
  kc: KubeConfig,
  namespace: string,
  name: string,
  container: string,
  timeoutMs: number,
  count = 1,
  failure = jobFailure(kc, namespace, name),
): Promise<JobPodLog[]> {
  const core = kc.makeApiClient(CoreV1Api);
  type End = { failed: string } | { pods: V1Pod[] };
  // The wait retries what it throws (an API server away for a moment), so a failure is its answer.
  const end = await eventually(
    async (): Promise<End | undefined> => {
      const pods = (await core.listNamespacedPod({ namespace, labelSelector: `${LOAD_LABEL}=${name}` })).items;
      const status = (p: V1Pod) => p.status?.containerStatuses?.find((c) => c.name === container);
      const ended = pods.filter((p) => status(p)?.state?.terminated);
      if (ended.length >= count) return { pods: ended };
      for (const p of pods) {
        const waiting = status(p)?.state?.waiting;
        if (waiting?.reason && STUCK.has(waiting.reason))
          return {
            failed: `container ${container} of pod ${p.metadata?.name} cannot start: ${waiting.reason}: ${waiting.message ?? ''} (image ${p.spec?.containers.find((c) => c.name === container)?.image}; --image-mirror names a registry that mirrors it)`,
          };
      }
      const failed = await failure();
      return failed ? { failed } : undefined;
    },
    {
      timeoutMs,
      intervalMs: 1000,
      describe: `container ${container} of ${count} pod${count === 1 ? '' : 's'} of the load ${name} in ${namespace} to end`,
    },
  );
  if ('failed' in end) throw new InfraError(end.failed);
  const out: JobPodLog[] = [];
  for (const pod of end.pods) {
    const log = await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace, container });
    const code = pod.status?.containerStatuses?.find((c) => c.name === container)?.state?.terminated?.exitCode ?? null;
    out.push({ pod: pod.metadata!.name!, log, code });
  }
  return out;
}

/** A k6 load's output (a Job's or a TestRun's), pod by pod: a k6 that was interrupted or could not run is an infrastructure error with the end of its log. */
export async function k6JobOutputs(kc: KubeConfig, namespace: string, name: string, timeoutMs: number, pods = 1, failure?: () => Promise<string | undefined>): Promise<K6Output[]> {
  return (await jobPodLogs(kc, namespace, name, 'k6', timeoutMs, pods, failure)).map(({ pod, log, code }) => {
    const m = k6ExitMeaning(code);
    if (m.outcome === 'interrupted' || m.outcome === 'broken') throw new InfraError(`${m.text} in pod ${pod}; k6 said: ${log.trim().split('\n').filter((l) => !l.startsWith('{')).slice(-5).join(' | ')}`);
    return k6OutputOfLog(log, code);
  });
}

/** The line the plaintext probe prints per instance. */
export const PROBE_MARK = 'MESHCHECK_PROBE';

/**
 * The plaintext probe in the cluster: a Job outside the mesh (no sidecar, the namespace's default
 * ServiceAccount) whose k6 sends one plain HTTP request straight to each instance's
 * pod address, past any route, and prints one marked line per instance: its status, or the error
 * when no HTTP response came back (a sidecar under STRICT mTLS refuses the plaintext connection).
 */
export function plaintextProbeJob(o: { ctx: RenderContext; name: string; service: string; targets: { instance: string; address: string }[]; image?: string }): K8sObject[] {
  return [
    obj(o.ctx, 'v1', 'ConfigMap', `${o.name}-script`, { data: { 'plaintext-probe.js': readFileSync(K6_SCRIPTS.plaintextProbe, 'utf8') } }),
    obj(o.ctx, 'batch/v1', 'Job', o.name, {
      spec: {
        completions: 1, parallelism: 1, backoffLimit: 0,
        template: {
          metadata: { labels: { ...OUTSIDE.labels, [LOAD_LABEL]: o.name }, annotations: OUTSIDE.annotations },
          spec: {
            restartPolicy: 'Never',
            containers: [{
              name: 'probe', image: imageRef(o.image ?? K6_IMAGE, o.ctx.imageMirror),
              // k6's console output, raw (the message alone, one per line), on stderr: the pod's log.
              command: ['sh', '-c', "k6 run --quiet --no-color --address '' --log-format raw /scripts/plaintext-probe.js 2>&1"],
              env: [{ name: 'K6_NO_USAGE_REPORT', value: 'true' }, { name: 'MESHCHECK_SERVICE', value: o.service }, { name: 'MESHCHECK_TARGETS', value: JSON.stringify(o.targets) }],
              volumeMounts: [{ name: 'scripts', mountPath: '/scripts' }],
            }],
            volumes: [{ name: 'scripts', configMap: { name: `${o.name}-script` } }],
          },
        },
      },
    }),
  ];
}

/** What the probe saw: per instance, refused (no HTTP response, or 403) or let through. */
export function probeResult(log: string): { attempts: number; rejected: number; detail: string[] } {
  const seen = log.split('\n').filter((l) => l.startsWith(`${PROBE_MARK} `)).map((l) => JSON.parse(l.slice(PROBE_MARK.length + 1)) as { instance: string; status: number; error: string });
  let rejected = 0;
  const detail = seen.map((r) => {
    if (r.status === 0 || r.status === 403) rejected++;
    return `${r.instance}: ${r.status === 0 ? `no HTTP response (${r.error})` : `HTTP ${r.status}`}`;
  });
  return { attempts: seen.length, rejected, detail };
}
