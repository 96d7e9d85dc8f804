import { ApiextensionsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Mesh, RenderContext } from '../../meshes/types.js';
import { InfraError } from '../../errors.js';
import type { Applier } from '../../kube/apply.js';
import { mergeK6 } from '../../load/k6.js';
import type { LoadProfile } from '../../load/profile.js';
import type { LoadResult } from '../../load/result.js';
import { apiErrorMessage } from '../../kube/client.js';
import type { PodInstance } from './instances.js';
import { callerPod, jobPodLogs, K6_REST_PORT, k6Job, k6JobOutputs, k6TestRun, OUTSIDE, plaintextProbeJob, probeResult, testRunFailure, type K6JobOptions } from './k6-job.js';

const address = (i: PodInstance, port: number) => `${i.podIP.includes(':') ? `[${i.podIP}]` : i.podIP}:${port}`;

/**
 * Load in the run's namespace: k6 Jobs (or a k6-operator TestRun) whose pods are meshed as the
 * caller, or outside the mesh for the overhead baseline and the plaintext probe; each one's output
 * read back from its pods' logs and merged, then the load deleted with its pods.
 */
export class ClusterLoad {
  private loads = 0;
  private hasTestRun?: Promise<boolean>;

  constructor(
    private readonly kc: KubeConfig,
    private readonly applier: Applier,
    private readonly adapter: Mesh,
    private readonly ctx: () => RenderContext,
    private readonly k6Image: string | undefined,
    private readonly log: (m: string) => void,
  ) {}

  /** Through the mesh, as the profile's caller (the load client by default): its Deployment's labels, annotations and ServiceAccount. */
  load(p: LoadProfile): Promise<LoadResult> {
    const ctx = this.ctx();
    return this.k6(p, {
      url: `http://${p.service}:${ctx.port}`,
      pod: callerPod(this.adapter.workload(ctx), p.caller ?? ctx.loadClient),
      quitUrl: this.adapter.sidecar?.quitUrl,
    });
  }

  /** The overhead baseline: from a pod outside the mesh straight to the instance's direct port, which its sidecar does not intercept. */
  loadDirect(p: LoadProfile, instance: PodInstance): Promise<LoadResult> {
    return this.k6(p, { url: `http://${address(instance, this.ctx().directPort)}`, pod: OUTSIDE });
  }

  /** Whether k6-operator's TestRun kind is served (its CRD installed); asked once per run. */
  private testRunInstalled(): Promise<boolean> {
    this.hasTestRun ??= this.kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: 'testruns.k6.io' })
      .then(
        () => true,
        (err: { code?: number }) => {
          if (err.code !== 404) this.log(`kube: cannot tell whether k6-operator is installed (${apiErrorMessage(err)}); load runs as Jobs`);
          return false;
        },
      );
    return this.hasTestRun;
  }

  /**
   * Runs a load: a k6-operator TestRun where its CRD is installed and the load needs more than one
   * k6 (the operator splits it by execution segments), else an Indexed Job.
   */
  private async k6(p: LoadProfile, o: Pick<K6JobOptions, 'url' | 'pod' | 'quitUrl'>): Promise<LoadResult> {
    const ctx = this.ctx();
    const name = `k6-${++this.loads}`;
    const options: K6JobOptions = { ctx, name, image: this.k6Image, parallelism: Math.max(1, Math.ceil((p.rps ?? 0) / 1000)), ...o };
    const testRun = (options.parallelism ?? 1) > 1 && (await this.testRunInstalled());
    const objects = testRun
      ? k6TestRun(p, { ...options, pod: { ...options.pod, annotations: { ...options.pod.annotations, ...this.adapter.skipInbound(K6_REST_PORT) } } })
      : k6Job(p, options);
    const pods = testRun ? options.parallelism! : (objects.find((x) => x.kind === 'Job')!.spec as { completions: number }).completions;
    const startedAt = Date.now();
    const undo = await this.applier.apply(objects);
    try {
      const outputs = await k6JobOutputs(
        this.kc,
        ctx.namespace,
        name,
        (p.rps ? (p.requests * 1000) / p.rps : 60_000) + 180_000,
        pods,
        testRun ? testRunFailure(this.kc, ctx.namespace, name) : undefined,
      );
      // The achieved rate is the requests' own: the Job's scheduling, start and log read are not the load's.
      return { ...mergeK6(p, outputs, startedAt), inCluster: true };
    } finally {
      await undo();
    }
  }

  /**
   * A plaintext client outside the mesh calls each instance of the service straight at its pod
   * address: a Job without a sidecar (plaintextProbeJob), its log read back.
   */
  async plaintextProbe(service: string, instances: readonly PodInstance[]): Promise<{ attempts: number; rejected: number; detail: string[] }> {
    const ctx = this.ctx();
    if (!instances.length) throw new InfraError(`the plaintext probe found no running instance of ${service} in ${ctx.namespace}`);
    const targets = instances.map((i) => ({ instance: i.name, address: address(i, ctx.port) }));
    const name = `probe-${++this.loads}`;
    const undo = await this.applier.apply(plaintextProbeJob({ ctx, name, service, targets, image: this.k6Image }));
    try {
      const [pod] = await jobPodLogs(this.kc, ctx.namespace, name, 'probe', 120_000);
      const r = probeResult(pod?.log ?? '');
      if (r.attempts !== targets.length)
        throw new InfraError(
          `the plaintext probe reported ${r.attempts} of ${targets.length} instances of ${service}; its log ends: ${(pod?.log ?? '').trim().split('\n').slice(-5).join(' | ')}`,
        );
      return r;
    } finally {
      await undo();
    }
  }
}
