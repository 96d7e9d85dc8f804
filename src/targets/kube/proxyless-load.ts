import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { execIn } from '../../kube/exec.js';
import { ready } from '../../kube/pods.js';
import { ProxylessAgent, runLoadOver, type ProxylessRun } from '../../load/proxyless-client.js';
import { InfraError } from '../../errors.js';
import type { Applier } from '../../kube/apply.js';
import { obj, type K8sObject } from '../../kube/objects.js';
import { configOf, proxylessResultOfLog } from '../../load/proxyless-lines.js';
import { grpcName } from '../../load/grpc-status.js';
import type { LoadProfile } from '../../load/profile.js';
import type { LoadResult } from '../../load/result.js';
import type { Mesh, OwnWorkload, RenderContext } from '../../meshes/types.js';
import type { ProbeResult } from '../ports.js';
import { address, logEnds, probeInstances, type ClusterLoader } from './cluster-load.js';
import type { PodInstance } from './instances.js';
import { callerPod, jobPodLogs, LOAD_LABEL, OUTSIDE, type LoadPod } from './k6-job.js';

/** The longest a load Job may take: its schedule, then the pod's start and the client's own deadline. */
const budgetMs = (p: LoadProfile) => (p.rps ? (p.requests * 1000) / p.rps : 60_000) + 180_000;

/**
 * Load on Istio's proxyless gRPC data plane in the cluster: meshcheck-proxyless in a Job. Through the
 * mesh its pod is the caller's (labels, ServiceAccount, grpc-agent injection: grpc-go's xDS client
 * with the caller's certificate); the overhead baseline and the plaintext probe run outside the mesh
 * in plain gRPC. Each Job's log holds the client's per-call lines, read back into the same LoadResult
 * the Istio tier gets from the same client on this machine (load/proxyless-lines.ts).
 */
export class ProxylessClusterLoad implements ClusterLoader {
  private loads = 0;
  /** A load from a caller's running pod that has not sent its first call yet (fromRunningCaller). */
  private starting?: Promise<void>;
  /** While the control plane is away: a client per service, each started in a load client's pod before (keepClients). */
  private agents?: Map<string, ProxylessAgent>;

  constructor(
    private readonly kc: KubeConfig,
    private readonly applier: Applier,
    private readonly adapter: Mesh,
    private readonly own: OwnWorkload,
    private readonly ctx: () => RenderContext,
  ) {}

  load(p: LoadProfile, o: Pick<ProxylessRun, 'shouldStop' | 'onProgress'> & { controlPlaneRestarts?: boolean } = {}): Promise<LoadResult> {
    const ctx = this.ctx();
    const caller = p.caller ?? ctx.loadClient;
    if (this.agents || o.controlPlaneRestarts) {
      // Around an outage load goes from the load client's running pods: a service's own pod has an xDS client already (its server).
      if (caller !== ctx.loadClient) throw new InfraError(`on the proxyless data plane in a cluster, load around a control-plane outage goes from the load client only, not "${caller}": a new pod cannot start without istiod, and Istio's agent serves one xDS client per pod, which in "${caller}"'s pod is its server`);
      const agent = this.agents?.get(p.service);
      if (agent) return agent.run(p, { ...o, target: this.meshTarget(p.service) }).then((r) => ({ ...r, inCluster: true }));
      return this.fromRunningCaller(p, o);
    }
    // The agent beside the client exits when told, so the Job's pod ends with the load.
    return this.run(p, this.meshTarget(p.service), callerPod(this.adapter.workload(ctx), caller), this.own.quitUrl);
  }

  private job(name: string, pod: LoadPod, args: string[]): K8sObject {
    const ctx = this.ctx();
    return proxylessJob(ctx, this.own.image(ctx), name, pod, args);
  }

  private meshTarget(service: string): string {
    const ctx = this.ctx();
    return `xds:///${service}.${ctx.namespace}.svc.cluster.local:${ctx.port}`;
  }

  /** The load client's Ready pods, by name (each has meshcheck-proxyless and the agent's bootstrap, and no xDS client running). */
  private async callerPods(): Promise<string[]> {
    const ctx = this.ctx();
    const pods = await this.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ctx.namespace, labelSelector: `app=${ctx.loadClient},!${LOAD_LABEL}` }).catch(() => undefined);
    const names = (pods?.items ?? []).filter((x) => ready(x) && !x.metadata?.deletionTimestamp).map((x) => x.metadata!.name!).sort();
    if (names.length < ctx.services.length) throw new InfraError(`${names.length} running pods of the load client "${ctx.loadClient}" in ${ctx.namespace}, where one per service (${ctx.services.length}) sends load around a control-plane outage`);
    return names;
  }

  /** The load client's pod that sends to `service` around an outage: one per service, since each pod's agent serves one xDS stream. */
  private async podFor(service: string): Promise<string> {
    const i = this.ctx().services.findIndex((s) => s.name === service);
    if (i < 0) throw new InfraError(`no service "${service}" in the workload`);
    return (await this.callerPods())[i]!;
  }

  /**
   * The load from a process started in a load client's running pod (pods/exec): its client connects to
   * the control plane at once, where a new pod would first need the injector and a certificate.
   */
  private async fromRunningCaller(p: LoadProfile, o: Pick<ProxylessRun, 'shouldStop' | 'onProgress'>): Promise<LoadResult> {
    let began!: () => void;
    this.starting = new Promise((resolve) => (began = resolve));
    try {
      const pod = await this.podFor(p.service);
      const r = await runLoadOver(p, { ...o, onFirstCall: began, target: this.meshTarget(p.service) }, (config) => execIn(this.kc, this.ctx().namespace, pod, 'app', ['meshcheck-proxyless', 'load', config]));
      return { ...r, inCluster: true };
    } finally {
      began();
      this.starting = undefined;
    }
  }

  /**
   * Resolves once the load started for a control-plane restart sends its first call (at once when
   * none is starting): its process starts through the API server, which on a busy node can take
   * longer than the quarter of the load after which the restart is due, and a client that starts
   * while the control plane is away gets no config at all.
   */
  untilLoadStarted(): Promise<void> {
    return this.starting ?? Promise.resolve();
  }

  /**
   * Before the control plane goes away: a client kept running per service, each in a load client's pod
   * with its channel connected, as a running data plane is; loads go through them until the returned
   * stop. A new pod could not start without the control plane (no injection, no certificate).
   */
  async keepClients(): Promise<() => void> {
    const ctx = this.ctx();
    const pods = await this.callerPods();
    const agents = new Map<string, ProxylessAgent>();
    const stop = () => {
      for (const a of agents.values()) a.stop();
      this.agents = undefined;
    };
    try {
      for (const [i, s] of ctx.services.entries())
        agents.set(s.name, await ProxylessAgent.over(await execIn(this.kc, ctx.namespace, pods[i]!, 'app', ['meshcheck-proxyless', 'agent']), [this.meshTarget(s.name)]));
    } catch (err) {
      stop();
      throw err;
    }
    this.agents = agents;
    return stop;
  }

  loadDirect(p: LoadProfile, instance: PodInstance): Promise<LoadResult> {
    return this.run(p, address(instance, this.ctx().directPort), OUTSIDE);
  }

  private async run(p: LoadProfile, target: string, pod: LoadPod, quitUrl?: string): Promise<LoadResult> {
    const ctx = this.ctx();
    const name = `grpc-load-${++this.loads}`;
    const startedAt = Date.now();
    const undo = await this.applier.apply([this.job(name, pod, ['load', configOf(p, target, { detached: true, ...(quitUrl ? { quitUrl } : {}) })])]);
    try {
      const [out] = await jobPodLogs(this.kc, ctx.namespace, name, 'load', budgetMs(p));
      const r = out && proxylessResultOfLog(p, out.log, startedAt);
      if (!r) throw new InfraError(`the proxyless load client in pod ${out?.pod ?? name} exited with ${out?.code ?? 'no code'} before its summary; its log ends: ${logEnds(out?.log)}`);
      // The achieved rate is the calls' own (the client's send window): the Job's start and log read are not the load's.
      return { ...r, inCluster: true };
    } finally {
      await undo();
    }
  }

  /** One plaintext gRPC call to each instance from a pod outside the mesh: refused (no answer) under STRICT mTLS. */
  plaintextProbe(service: string, instances: readonly PodInstance[]): Promise<ProbeResult> {
    return probeInstances({ kc: this.kc, applier: this.applier, ctx: this.ctx(), service, instances, name: `grpc-probe-${++this.loads}`, container: 'load', read: grpcProbeResult },
      (name, targets) => [this.job(name, OUTSIDE, ['probe', JSON.stringify({ targets })])]);
  }
}

/** What the probe saw, from its PROBE lines: an instance refused the call unless it answered (code 0). */
export function grpcProbeResult(log: string): ProbeResult {
  const seen = log.split('\n').filter((l) => l.startsWith('PROBE ')).map((l) => JSON.parse(l.slice(6)) as { instance: string; address: string; code: number; message: string });
  return {
    attempts: seen.length,
    rejected: seen.filter((r) => r.code !== 0).length,
    detail: seen.map((r) => `${r.instance} (${r.address}): ${r.code === 0 ? 'answered in plaintext' : `gRPC ${grpcName(r.code)}: ${r.message}`}`),
  };
}

/** A Job of one pod running meshcheck-proxyless with `args` from `image`, as `pod` in the mesh (or outside it). */
function proxylessJob(ctx: RenderContext, image: string, name: string, pod: LoadPod, args: string[]): K8sObject {
  return obj(ctx, 'batch/v1', 'Job', name, {
    spec: {
      completions: 1, parallelism: 1, backoffLimit: 0,
      template: {
        metadata: { labels: { ...pod.labels, [LOAD_LABEL]: name }, ...(pod.annotations ? { annotations: pod.annotations } : {}) },
        spec: {
          restartPolicy: 'Never', ...(pod.serviceAccountName ? { serviceAccountName: pod.serviceAccountName } : {}),
          containers: [{ name: 'load', image, args, env: [{ name: 'GRPC_GO_LOG_SEVERITY_LEVEL', value: 'error' }] }],
        },
      },
    },
  });
}
