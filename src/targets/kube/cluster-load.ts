import { ApiextensionsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Mesh, RenderContext } from '../../meshes/types.js';
import type { K8sObject } from '../../kube/objects.js';
import { InfraError } from '../../errors.js';
import type { Applier } from '../../kube/apply.js';
import { k6ExitMeaning, mergeK6 } from '../../load/k6.js';
import type { LoadProfile } from '../../load/profile.js';
import type { LoadResult } from '../../load/result.js';
import { apiErrorMessage } from '../../kube/client.js';
import type { PodInstance } from './instances.js';
import type { LoadOptions, ProbeResult } from '../ports.js';
import { callerPod, jobPodLogs, K6_REST_PORT, k6Job, k6JobOutputs, k6TestRun, OUTSIDE, plaintextProbeJob, probeResult, testRunFailure, type K6JobOptions, type LoadPod } from './k6-job.js';
import { k6InPod, k6StandbyObjects, standbyReady } from './k6-standby.js';

/** An instance's pod address and a port, as a client dials it. */
export const address = (i: PodInstance, port: number) => `${i.podIP.includes(':') ? `[${i.podIP}]` : i.podIP}:${port}`;

/** How load runs in the cluster for the data plane (k6 for sidecars, meshcheck-proxyless for proxyless gRPC). */
export interface ClusterLoader {
  /** Through the mesh, as the profile's caller. */
  load(p: LoadProfile, o?: Pick<LoadOptions, 'shouldStop' | 'onProgress' | 'controlPlaneRestarts'>): Promise<LoadResult>;
  /** The overhead baseline: outside the mesh, straight to one instance's direct port. */
  loadDirect(p: LoadProfile, instance: PodInstance): Promise<LoadResult>;
  /** A plaintext client outside the mesh calls each instance at its pod address. */
  plaintextProbe(service: string, instances: readonly PodInstance[]): Promise<ProbeResult>;
  /** Clients that keep running while the control plane is away, where a load needs them (the returned stop ends them). */
  keepClients?(): Promise<() => void>;
  /** The meshed caller pod loads are started in while one is kept (keepClients), and its node. */
  heldCaller?(): { pod: string; node: string } | undefined;
  /** Resolves once a load begun for a control-plane restart is under way, where it starts late (at once otherwise). */
  untilLoadStarted?(): Promise<void>;
}

/**
 * Load in the run's namespace: k6 Jobs (or a k6-operator TestRun) whose pods are meshed as the
 * caller, or outside the mesh for the overhead baseline and the plaintext probe; each one's output
 * read back from its pods' logs and merged, then the load deleted with its pods.
 */
export class ClusterLoad implements ClusterLoader {
  private loads = 0;
  private hasTestRun?: Promise<boolean>;
  /** A meshed k6 pod kept running around a control-plane outage (keepClients): loads are started in it. */
  private standby?: { pod: string; node: string; caller: string };
  /** A load started in the standby pod that has not sent yet (untilLoadStarted). */
  private starting?: Promise<void>;

  constructor(
    private readonly kc: KubeConfig,
    private readonly applier: Applier,
    private readonly adapter: Mesh,
    private readonly ctx: () => RenderContext,
    private readonly k6Image: string | undefined,
    private readonly log: (m: string) => void,
  ) {}

  /**
   * Through the mesh, as the profile's caller (the load client by default): its Deployment's labels,
   * annotations and ServiceAccount. Around a control-plane outage, from a meshed pod that was running
   * before it (a new pod is not injected while the control plane is away).
   */
  async load(p: LoadProfile, o: Pick<LoadOptions, 'controlPlaneRestarts'> = {}): Promise<LoadResult> {
    const ctx = this.ctx();
    const url = `http://${p.service}:${ctx.port}`;
    const caller = p.caller ?? ctx.loadClient;
    const pod = callerPod(this.adapter.workload(ctx), caller);
    if (this.standby) {
      // The held pod has its caller's identity; a load as another would be sent with the wrong one.
      if (this.standby.caller !== caller) throw new InfraError(`a load as "${caller}" while the k6 pod ${this.standby.pod} is held as "${this.standby.caller}": meshcheck sends loads from the held pod only, as its caller`);
      return this.fromStandby(p, url, this.standby.pod);
    }
    if (!o.controlPlaneRestarts) return this.k6(p, { url, pod, quitUrl: this.adapter.sidecar?.quitUrl, readyUrl: this.adapter.sidecar?.readyUrl });
    let began!: () => void;
    this.starting = new Promise((resolve) => (began = resolve));
    try {
      const release = await this.keepClients(pod, caller);
      try {
        return await this.fromStandby(p, url, this.standby!.pod, began);
      } finally {
        release();
      }
    } finally {
      began();
      this.starting = undefined;
    }
  }

  /**
   * Before the control plane goes away: a meshed k6 pod as the load client, Ready (its sidecar has its
   * config and certificate); loads are started in it until the returned stop, which deletes it.
   */
  async keepClients(pod?: LoadPod, caller?: string): Promise<() => void> {
    const ctx = this.ctx();
    const name = `k6-standby-${++this.loads}`;
    const undo = await this.applier.apply(k6StandbyObjects({ ctx, name, pod: pod ?? callerPod(this.adapter.workload(ctx), ctx.loadClient), image: this.k6Image }));
    let node: string;
    try {
      node = await standbyReady(this.kc, ctx.namespace, name);
    } catch (err) {
      await undo();
      throw err;
    }
    this.standby = { pod: name, node, caller: caller ?? ctx.loadClient };
    return () => {
      this.standby = undefined;
      undo().catch((err: Error) => this.log(`kube: deleting the standby k6 pod ${name}: ${err.message}`));
    };
  }

  heldCaller(): { pod: string; node: string } | undefined {
    return this.standby;
  }

  /** Resolves once a load started for a control-plane restart is sending (at once when none is starting). */
  untilLoadStarted(): Promise<void> {
    return this.starting ?? Promise.resolve();
  }

  private async fromStandby(p: LoadProfile, url: string, pod: string, onStart: () => void = () => {}): Promise<LoadResult> {
    const startedAt = Date.now();
    const out = await k6InPod(this.kc, this.ctx().namespace, pod, p, url, onStart);
    const meaning = k6ExitMeaning(out.code);
    if (!out.samples.length) throw new InfraError(`k6 in the standby pod ${pod} sent nothing (${meaning.text}); its output ends: ${out.log.trim().split('\n').slice(-3).join(' | ') || 'nothing'}`);
    return { ...mergeK6(p, [out], startedAt), inCluster: true };
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
  private async k6(p: LoadProfile, o: Pick<K6JobOptions, 'url' | 'pod' | 'quitUrl' | 'readyUrl'>): Promise<LoadResult> {
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
  plaintextProbe(service: string, instances: readonly PodInstance[]): Promise<ProbeResult> {
    const ctx = this.ctx();
    return probeInstances({ kc: this.kc, applier: this.applier, ctx, service, instances, name: `probe-${++this.loads}`, container: 'probe', read: probeResult },
      (name, targets) => plaintextProbeJob({ ctx, name, service, targets, image: this.k6Image }));
  }
}

/**
 * The plaintext probe's frame on both loaders: each instance's pod address on the service port, the
 * probe's Job (`job`), its log read back (`read`) once `container` has ended, and the Job deleted.
 */
export async function probeInstances(
  o: {
    kc: KubeConfig; applier: Applier; ctx: RenderContext; service: string; instances: readonly PodInstance[];
    name: string; container: string; read: (log: string) => ProbeResult;
  },
  job: (name: string, targets: { instance: string; address: string }[]) => K8sObject[],
): Promise<ProbeResult> {
  if (!o.instances.length) throw new InfraError(`the plaintext probe found no running instance of ${o.service} in ${o.ctx.namespace}`);
  const targets = o.instances.map((i) => ({ instance: i.name, address: address(i, o.ctx.port) }));
  const undo = await o.applier.apply(job(o.name, targets));
  try {
    const [pod] = await jobPodLogs(o.kc, o.ctx.namespace, o.name, o.container, 120_000);
    const r = o.read(pod?.log ?? '');
    if (r.attempts !== targets.length) {
      throw new InfraError(`the plaintext probe reported ${r.attempts} of ${targets.length} instances of ${o.service}; its log ends: ${logEnds(pod?.log)}`);
    }
    return r;
  } finally {
    await undo();
  }
}

/** The last lines of a load pod's log, for an error (without a proxyless client's per-call lines). */
export const logEnds = (log = '') => log.trim().split('\n').filter((l) => !l.startsWith('R ')).slice(-5).join(' | ') || 'nothing';
