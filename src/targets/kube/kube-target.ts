import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, VersionApi, type KubernetesObject } from '@kubernetes/client-node';
import { InfraError, UsageError } from '../../errors.js';
import { allowedNamespaces, refusedChanges } from './guard.js';
import type { KubeTargetSettings } from './options.js';
import type { Ledger } from '../../ledger/ledger.js';
import { type K8sObject, patch } from '../../kube/objects.js';
import type { Mesh, Support } from '../../meshes/types.js';
import { meshFor, appContext, dataPlaneFor } from '../../meshes/registry.js';
import type { Intent } from '../../intents/types.js';
import type { LoadResult } from '../../load/result.js';
import type { LoadProfile } from '../../load/profile.js';
import { Applier } from '../../kube/apply.js';
import { apiCall } from '../../kube/client.js';
import type { Applied, ControlPlanePort, LoadOptions, Misbehaviour, ObservationPort, PolicyPort, ProbeResult, SidecarStats, Target, TrafficPort, WorkloadPort, Workload } from '../ports.js';
import type { CheckFeature } from '../../meshes/types.js';
import { orUndo, type Undo } from '../../util/undo.js';
import { eventually } from '../../util/eventually.js';
import { undoLedger } from '../../cli/cleanup.js';
import { apiErrorMessage, kubeClient, kubeconfigPath, serverSideApply } from '../../kube/client.js';
import { startClusterLedger } from '../../kube/cluster-ledger.js';
import { PodInstances } from './instances.js';
import { sidecarUsage, throughNodeProxy } from './usage.js';
import { clusterPrometheus } from './cluster-prometheus.js';
import type { Forwarded } from '../../kube/port-forward.js';
import type { Prometheus } from '../../metrics/prometheus.js';
import { requestsByCode } from '../../metrics/promql.js';
import { rolledOut } from './rollout.js';
import { notReady } from '../../kube/pods.js';
import { noDataPlane, simulatedNodes } from './simulated-nodes.js';
import { ClusterControlPlane } from './control-plane.js';
import { ClusterLoad, type ClusterLoader } from './cluster-load.js';
import { ProxylessClusterLoad } from './proxyless-load.js';
import type { SampleReading } from '../../load/reading.js';
import type { EchoControl } from './instances.js';
import { ClusterPolicy } from './policy.js';
import { withNodeDefaults } from './node-defaults.js';
import { envoyPolicyEvidence } from './envoy-config.js';
import type { Evidence } from '../../evidence.js';



/**
 * The kube target: a user's cluster with a mesh installed. Per run, a namespace of its own (with the
 * mesh's injection setting) and the mesh-shaped workload, waited on until every Deployment is
 * Available. Per scenario, the mesh's objects by server-side apply (field manager meshcheck), each
 * recorded with its prior state in the local ledger and in a ConfigMap of the run's namespace before
 * the call, then waited on until the mesh has them in effect (the mesh's own PolicyWatch, from its
 * folder under src/meshes/: what its control plane serves, its controllers write or its proxies took).
 * Load runs in the cluster as k6 Jobs meshed as the caller; single instances are reached on the echo
 * workload's direct port by port-forward; metrics come from the cluster's Prometheus and cAdvisor.
 * On nodes kwok simulates no request can pass: a scenario that sends load ends BROKEN saying so,
 * after its policy was applied, waited on and undone.
 */
export class KubeTarget implements Target, PolicyPort, WorkloadPort, TrafficPort, ObservationPort, ControlPlanePort {
  readonly policy: PolicyPort = this;
  readonly workloads: WorkloadPort = this;
  readonly traffic: TrafficPort = this;
  readonly observations: ObservationPort = this;
  readonly controlPlane: ControlPlanePort = this;
  /** Namespaces besides the run's own where meshcheck may change objects (--allow-changes-in). */
  private readonly allowed: string[];
  private prepared = false;
  /** Why the workload did not become available, once it did not (every later scenario ends at once with it). */
  private unavailable?: string;
  private createdNamespace = false;
  readonly convergenceMs: number[] = [];
  readonly label: string;
  readonly mesh: { name: string; version: string; dataPlane?: string };
  /**
   * The load engine, whatever --load-engine says: k6 in the cluster (Jobs or the standby pod) for sidecar
   * meshes; on proxyless gRPC meshcheck-proxyless, with verdicts in gRPC terms.
   */
  readonly engine: string;
  readonly reading?: SampleReading;
  readonly dataPath?: { protocol: string; path: string; dataPlane: string };
  readonly proxyWorkers?: number;
  readonly measurementNotes?: readonly string[];
  private readonly control?: EchoControl;
  private readonly adapter: Mesh;
  private readonly applier: Applier;
  private clusterPolicy!: ClusterPolicy;
  private simulated?: string[];
  /** How the running scenario's policy was found in effect, once it was (for what its BROKEN message says). */
  private inEffectBy?: string;
  private readonly loader: ClusterLoader;
  private instances?: PodInstances;
  private promForward?: Forwarded;
  /** The control plane's images as found at the start (the version that really ran, for the record). */
  private controlPlaneImages?: { workload: string; images: string[] }[];

  private constructor(
    readonly settings: KubeTargetSettings,
    private readonly kc: KubeConfig,
    private readonly ledger: Ledger,
    readonly namespace: string,
    private readonly runId: string,
    private readonly log: (m: string) => void,
  ) {
    const { mesh, version } = meshFor(settings.mesh);
    // The data plane's own adapter (src/meshes/<mesh>/): its support levels, workload and render.
    const plane = dataPlaneFor(mesh, 'kube', settings.dataPlane);
    const adapter = plane.mesh;
    this.allowed = allowedNamespaces(settings.allowChangesIn);
    this.adapter = adapter;
    this.mesh = { name: adapter.name, version, ...(adapter.dataPlane ? { dataPlane: adapter.dataPlane } : {}) };
    this.label = adapter.dataPlane ? `${adapter.name} (${adapter.dataPlane})` : adapter.name;
    this.applier = new Applier(kc, ledger, { kubeconfig: kubeconfigPath(settings.kubeconfig), context: settings.context });
    const own = adapter.ownWorkload;
    if (own) {
      this.engine = own.engine;
      this.reading = own.reading;
      this.dataPath = own.dataPath;
      this.control = own.control;
      this.loader = new ProxylessClusterLoad(kc, this.applier, this.adapter, own, () => this.ctx());
    } else {
      this.engine = 'k6';
      this.loader = new ClusterLoad(kc, this.applier, this.adapter, () => this.ctx(), settings.k6Image, log);
      this.proxyWorkers = adapter.proxyWorkers;
      this.measurementNotes = settings.measurementNotes;
    }
  }

  /** The mesh's own "in effect" wait (from its folder), under the policy of every scenario. */
  private async watchPolicy(): Promise<void> {
    const watch = await this.adapter.inEffect({
      kc: this.kc,
      client: this.applier.client,
      namespace: this.namespace,
      meshSpec: this.settings.mesh,
      options: this.settings.meshOptions,
      timeoutMs: Number(process.env.MESHCHECK_KUBE_IN_EFFECT_TIMEOUT_MS ?? 120_000),
      restartApp: (why) => this.restartApp(why),
    });
    this.clusterPolicy = new ClusterPolicy(this.applier, watch, { render: (i) => this.render(i), guard: (o) => this.guard(o) });
  }

  static async connect(settings: KubeTargetSettings, ledger: Ledger, runId: string, log: (m: string) => void): Promise<KubeTarget> {
    const kc = kubeClient(settings);
    try {
      const v = await kc.makeApiClient(VersionApi).getCode();
      log(`kube context ${settings.context}: Kubernetes ${v.gitVersion} at ${kc.getCurrentCluster()?.server}`);
    } catch (err) {
      throw new InfraError(`kube context ${settings.context}: API server not reachable: ${apiErrorMessage(err)}`);
    }
    settings = await withNodeDefaults(kc, settings, log);
    for (const ns of allowedNamespaces(settings.allowChangesIn))
      if (ns === 'kube-system') log('kube: --allow-changes-in kube-system: meshcheck may change objects in kube-system');
    const ns = `meshcheck-${runId.replace(/[^a-z0-9]/g, '').slice(-20)}`;
    const t = new KubeTarget(settings, kc, ledger, ns, runId, log);
    // Said now, not when the first scenario deploys the workload.
    t.adapter.ownWorkload?.image(t.ctx());
    await t.readControlPlane();
    await t.watchPolicy();
    return t;
  }

  supportAll(intents: readonly Intent[]): Support[] {
    return this.adapter.supportAll(intents, this.mesh.version);
  }

  lacks(feature: CheckFeature): string | undefined {
    const own = this.adapter.lacks?.(feature);
    if (own) return own;
    if (feature === 'sidecar-usage' && !this.adapter.sidecar)
      return `${this.adapter.title} has no sidecar: there is no sidecar CPU or memory to measure`;
    if (feature === 'mesh-metrics' && !this.adapter.requests)
      return `${this.adapter.title} has no proxies that count requests: there are no mesh metrics to query`;
    if (feature === 'mesh-metrics' && this.settings.noMeshMetrics) return this.settings.noMeshMetrics;
    return undefined;
  }

  private ctx() {
    return appContext(this.namespace, this.mesh.version, this.runId, this.settings);
  }

  render(intents: readonly Intent[]): K8sObject[] {
    return this.adapter.render(intents, this.ctx()).objects;
  }

  /** Deploys the namespace and the workload once per run and waits until they are available. */
  async beforeScenario(): Promise<void> {
    this.inEffectBy = undefined;
    if (this.prepared) return;
    // Once the workload did not come up, it will not for the next scenario either: each would deploy
    // it again and wait out the whole timeout to say the same (15 scenarios, 45 minutes).
    if (this.unavailable) throw new InfraError(`the workload did not come up earlier in this run, so this scenario was not tried: ${this.unavailable}`);
    const [namespace, ...objects] = this.adapter.workload(this.ctx());
    if (namespace?.kind !== 'Namespace') throw new InfraError(`the ${this.adapter.name} workload does not start with its Namespace`);
    const seq = this.ledger.record({
      op: 'kube-namespace',
      context: this.settings.context,
      kubeconfig: kubeconfigPath(this.settings.kubeconfig),
      name: this.namespace,
    });
    this.createdNamespace = true;
    this.log(`kube: creating namespace ${this.namespace} and the ${this.adapter.name} workload (${objects.length} objects)`);
    try {
      await apiCall({ verb: 'create', kind: 'Namespace', name: this.namespace }, () =>
        serverSideApply(this.applier.client, namespace as KubernetesObject),
      );
    } catch (err) {
      // Refused (RBAC, admission): there is no namespace to delete.
      if (err instanceof InfraError || (err as { code?: number }).code !== undefined) {
        this.ledger.record({ op: 'done', ref: seq });
        this.createdNamespace = false;
      }
      throw err;
    }
    this.applier.mirror = await startClusterLedger(this.applier.client, this.namespace, this.runId);
    await this.applier.apply(objects);
    const apps = this.kc.makeApiClient(AppsV1Api);
    const timeoutMs = Number(process.env.MESHCHECK_KUBE_READY_TIMEOUT_MS ?? 180_000);
    await eventually(
      async () => {
        const list = await apps.listNamespacedDeployment({ namespace: this.namespace });
        const waiting = list.items.filter((d) => !d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True'));
        if (waiting.length) throw new Error(`not available: ${waiting.map((d) => d.metadata?.name).join(', ')}`);
        return true;
      },
      {
        timeoutMs,
        intervalMs: 1000,
        describe: `the workload in namespace ${this.namespace} to become available (are there schedulable nodes, and is ${this.adapter.name} installed?)`,
      },
    ).catch(async (err: Error) => {
      const why = await notReady(this.kc, this.namespace).catch(() => []);
      this.unavailable = `${err.message}${why.length ? `; pods not ready: ${why.join('; ')}` : ''}`;
      throw new InfraError(this.unavailable, { cause: err.cause });
    });
    if (this.adapter.baselineFirst) {
      const b = await this.clusterPolicy.baseline().catch((err: Error) => {
        // No call can succeed without it: every later scenario ends at once with this reason, as for the workload.
        this.unavailable = `the ${this.label} baseline (what it renders for no intent) did not come into effect: ${err.message}`;
        throw new InfraError(this.unavailable, { cause: err });
      });
      this.log(`kube: the ${this.label} baseline (what it renders for no intent) in effect in ${b.convergenceMs.toFixed(0)} ms: ${b.by}`);
    }
    this.simulated = await simulatedNodes(this.kc, this.namespace);
    this.instances = new PodInstances(this.kc, this.ctx(), this.control);
    await this.instances.refresh();
    this.log(
      `kube: workload available in ${this.namespace}${this.simulated.length ? ` (on simulated nodes ${this.simulated.join(', ')}: no container runs there)` : ''}`,
    );
    this.prepared = true;
  }

  private guard(objects: readonly K8sObject[]): void {
    const refused = refusedChanges(objects, this.namespace, this.allowed);
    if (refused) throw new InfraError(refused);
  }

  /** The guardrail, then the intents on top of those in effect, waited on until the mesh has them (policy.ts). */
  async apply(intents: readonly Intent[]): Promise<Applied> {
    const r = await this.clusterPolicy.apply(intents);
    this.convergenceMs.push(r.convergenceMs);
    this.inEffectBy = r.by;
    return { ...r, evidence: [...r.evidence, ...(await this.envoyEvidence(intents))] };
  }

  /** Where the sidecars are Envoy and say their config: the part of it that carries the policy, once in effect (envoy-config.ts). */
  private async envoyEvidence(intents: readonly Intent[]): Promise<Evidence[]> {
    const command = this.adapter.sidecar?.configDump;
    if (!command || this.simulated?.length || !intents.length) return [];
    const callers = await this.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: this.namespace, labelSelector: `app=${this.ctx().loadClient}` }).catch(() => undefined);
    const caller = callers?.items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)?.metadata?.name;
    const services = [...new Set(intents.flatMap((i) => (i.service ? [i.service] : [])))];
    const destinations = new Map(services.map((s) => [s, this.pods().of(s)[0]?.name]));
    return envoyPolicyEvidence(this.kc, { namespace: this.namespace, caller, destinations, container: this.adapter.sidecar!.container, command });
  }

  /**
   * Restarts every Deployment of the run's namespace (a new pod template annotation, as `kubectl
   * rollout restart` does) and waits until they have rolled out: for policy a mesh reads when a pod
   * starts. The Deployments are meshcheck's own, in its own namespace, deleted with it.
   */
  private async restartApp(why: string): Promise<{ object: string; how: string }> {
    const apps = this.kc.makeApiClient(AppsV1Api);
    const names = (await apps.listNamespacedDeployment({ namespace: this.namespace })).items.map((d) => d.metadata!.name!);
    const at = new Date().toISOString();
    for (const name of names) {
      await apiCall({ verb: 'patch', kind: 'Deployment', name, namespace: this.namespace }, () =>
        apps.patchNamespacedDeployment(
          {
            name,
            namespace: this.namespace,
            body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        ),
      );
    }
    this.log(`kube: restarting the app's pods: ${why}`);
    await this.rolledOut(names, `the app's pods restarted (${why})`);
    await this.pods().refresh();
    return { object: `Deployments of ${this.namespace}`, how: `restarted at ${at} and rolled out: ${why}` };
  }

  /** On nodes where no container runs (simulated-nodes.ts), a step that needs the data plane is refused, saying what became of its policy. */
  private needDataPlane(): void {
    if (this.simulated?.length) throw noDataPlane(this.namespace, this.simulated, this.inEffectBy);
  }

  /** Load through the mesh from the cluster, as the profile's caller (cluster-load.ts). */
  async load(p: LoadProfile, o: LoadOptions): Promise<LoadResult> {
    this.needDataPlane();
    return this.loader.load(p, o);
  }

  /** The overhead baseline: from outside the mesh straight to one instance's direct port (cluster-load.ts). */
  async loadDirect(p: LoadProfile, instance: Workload): Promise<LoadResult> {
    this.needDataPlane();
    return this.loader.loadDirect(p, this.pods().find(instance.name));
  }

  /** A plaintext client outside the mesh calls each instance of the service at its pod address (cluster-load.ts). */
  async plaintextProbe(service: string): Promise<ProbeResult> {
    this.needDataPlane();
    return this.loader.plaintextProbe(service, this.pods().of(service));
  }

  /** Only these versions of a service take traffic: the others' Deployments scaled to zero (the undo puts them back). */
  async runVersions(service: string, versions: string[]): Promise<Undo> {
    const all = this.ctx().services.find((x) => x.name === service)?.versions ?? [];
    const missing = versions.filter((v) => !all.includes(v));
    if (missing.length) throw new UsageError(`the workload has no version ${missing.join(', ')} of "${service}"; it runs ${all.join(', ')}`);
    const off = all.filter((v) => !versions.includes(v)).map((v) => `${service}-${v}`);
    const undo = await this.applier.apply(off.map((name) => patch(this.ctx(), 'apps/v1', 'Deployment', name, { spec: { replicas: 0 } })));
    await this.rolledOut(off, `${off.join(', ')} scaled to zero`);
    await this.pods().refresh();
    return async () => {
      await undo();
      await this.rolledOut(off, `${off.join(', ')} back`);
      await this.pods().refresh();
    };
  }

  /** Waits until each Deployment has exactly the replicas its spec asks for, updated and ready. */
  /** Waits until the named Deployments of the run's namespace have rolled out. */
  private rolledOut(names: readonly string[], what: string): Promise<void> {
    return rolledOut(
      this.kc,
      names.map((name) => ({ kind: 'Deployment', name, namespace: this.namespace })),
      what,
    );
  }

  private pods(): PodInstances {
    if (!this.instances) throw new InfraError(`the workload of ${this.namespace} is not deployed yet`);
    return this.instances;
  }

  instancesOf(service: string): Workload[] {
    return this.pods().of(service);
  }

  /** Tells each instance's echo workload (through a port-forward to its direct port) to fail or be slow; the undo sets it back. */
  async setBehaviour(instances: readonly Workload[], b: Misbehaviour): Promise<Undo> {
    this.needDataPlane();
    const done: string[] = [];
    const undo: Undo = async () => {
      for (const name of done) await this.pods().behave(name, {});
    };
    await orUndo(async () => {
      for (const i of instances) {
        done.push(i.name);
        await this.pods().behave(i.name, b);
      }
    }, undo);
    return undo;
  }

  failedCount(instance: Workload): Promise<number> {
    return this.pods().failed(instance.name);
  }

  /**
   * The caller's sidecar is in each load's own Job pod, gone after it; while a caller pod is held
   * (holdCaller), the loads start in it and its sidecar is the caller's.
   */
  callerInstance(): string | undefined {
    return this.loader.heldCaller?.()?.pod;
  }

  /** A meshed k6 pod, Ready, that the loads start in until the undo (the overhead rounds: its sidecar is measured). */
  async holdCaller(): Promise<Undo> {
    this.needDataPlane();
    if (!this.loader.keepClients || !this.loader.heldCaller) throw new InfraError(`the ${this.label} data plane keeps no caller pod`);
    const release = await this.loader.keepClients();
    // cAdvisor lists a new pod's containers some seconds after they start: its sidecar is read from then on.
    try {
      await eventually(() => this.sidecarStats().then((s) => s.length > 0), { timeoutMs: 60_000, intervalMs: 500, describe: `cAdvisor listing the sidecar of the k6 pod ${this.loader.heldCaller()!.pod}` });
    } catch (err) {
      release();
      throw err;
    }
    return async () => release();
  }

  /** Each instance's sidecar (and a held caller's): cumulative CPU-seconds and working-set memory from cAdvisor on its node. */
  async sidecarStats(): Promise<SidecarStats[]> {
    this.needDataPlane();
    if (!this.adapter.sidecar) return Promise.reject(new InfraError(this.lacks('sidecar-usage')!));
    const held = this.loader.heldCaller?.();
    const caller = held ? [{ name: held.pod, node: held.node, service: this.ctx().loadClient }] : [];
    return sidecarUsage(throughNodeProxy(this.kc), this.namespace, this.adapter.sidecar.container, [...this.pods().all, ...caller]);
  }

  requestsByCode(service: string): { query: string; codeLabel: string } {
    const m = this.adapter.requests;
    if (!m) throw new InfraError(this.lacks('mesh-metrics')!);
    return { query: requestsByCode(service, m, this.namespace), codeLabel: m.codeLabel };
  }

  /** The cluster's own Prometheus (--prometheus-url or --prometheus-service); meshcheck starts none here. */
  async prometheus(): Promise<Prometheus> {
    this.needDataPlane();
    const { prometheus, forwarded } = await clusterPrometheus(this.kc, this.namespace, {
      url: this.settings.prometheusUrl,
      service: this.settings.prometheusService,
    });
    this.promForward = forwarded;
    return prometheus;
  }

  /** The load runs in the cluster: no process on this machine is meshcheck's own. */
  ownProcessGroups(): number[] {
    return [];
  }

  private clusterControlPlane(): ClusterControlPlane {
    return new ClusterControlPlane(
      this.kc,
      this.applier,
      this.adapter,
      () => this.ctx(),
      (objects) => this.guard(objects),
      this.log,
    );
  }

  /** The mesh's control plane scaled to zero (outside the run's namespace: --allow-changes-in); the undo scales it back. */
  async stopControlPlane(): Promise<Undo> {
    // Where a load starts new clients (proxyless), they are started first: none could start without it.
    const release = await this.loader.keepClients?.();
    let undo: Undo;
    try {
      ({ undo } = await this.clusterControlPlane().stop());
    } catch (err) {
      release?.();
      throw err;
    }
    this.forgetControlPlane();
    return async () => {
      try {
        await undo();
        this.forgetControlPlane();
      } finally {
        release?.();
      }
    };
  }

  /** The control plane stopped and started again during a load: on simulated nodes there is no load to restart it under. */
  async restartControlPlane(): Promise<{ downMs: number; readyMs: number }> {
    this.needDataPlane();
    // Not before the load it falls in sends: a client that starts while the control plane is away gets no config.
    await this.loader.untilLoadStarted?.();
    const r = await this.clusterControlPlane().restart();
    this.forgetControlPlane();
    return r;
  }

  /**
   * Records which images the mesh's control plane runs, and says when their tags name another minor
   * than the one --mesh MESH@MINOR asked for (the run would render for one version against another).
   */
  private async readControlPlane(): Promise<void> {
    const found = await this.clusterControlPlane().images();
    if (!found) return;
    this.controlPlaneImages = found;
    this.log(`kube: ${this.adapter.name} control plane: ${found.map((w) => `${w.workload} runs ${w.images.join(', ')}`).join('; ')}`);
    if (!this.settings.mesh.includes('@')) return;
    const minors = found.flatMap((w) => w.images).map((i) => /:v?(\d+\.\d+)/.exec(i)?.[1]).filter((m): m is string => m !== undefined);
    const other = minors.find((m) => m !== this.mesh.version);
    if (other) this.log(`kube: warning: --mesh ${this.settings.mesh} renders for ${this.mesh.name} ${this.mesh.version}, but its control plane's image is of ${other}: install --mesh ${this.mesh.name}@${other}, or run --mesh ${this.mesh.name}@${other}`);
  }

  private forgetControlPlane(): void {
    this.clusterPolicy.forgetControlPlane();
  }

  describe(): Record<string, unknown> {
    return {
      mesh: this.adapter.name,
      version: this.mesh.version,
      ...(this.adapter.dataPlane ? { dataPlane: this.adapter.dataPlane } : {}),
      context: this.settings.context,
      namespace: this.namespace,
      ...this.clusterPolicy.describe(),
      ...(this.controlPlaneImages ? { controlPlane: this.controlPlaneImages } : {}),
      ...(this.simulated?.length ? { simulatedNodes: this.simulated } : {}),
      convergenceMs: this.convergenceMs.map((x) => Number(x.toFixed(1))),
    };
  }

  /** Deletes the run's namespace (and with it everything meshcheck created in it) and waits until it is gone. */
  async stop(): Promise<void> {
    this.clusterPolicy.close();
    this.instances?.close();
    this.promForward?.close();
    // Whatever the ledger still holds (an interrupt skips the scenario's own undo) is put back from it,
    // and the namespace is deleted with everything meshcheck created in it.
    for (const line of await undoLedger(this.ledger.file)) this.log(`kube: ${line}`);
    if (!this.createdNamespace) return;
    const core = this.kc.makeApiClient(CoreV1Api);
    await eventually(
      async () => {
        try {
          await core.readNamespace({ name: this.namespace });
          return false;
        } catch (err) {
          return (err as { code?: number }).code === 404;
        }
      },
      {
        timeoutMs: Number(process.env.MESHCHECK_KUBE_DELETE_TIMEOUT_MS ?? 120_000),
        intervalMs: 500,
        describe: `namespace ${this.namespace} to be deleted (its finalizers: the cluster's namespace controller)`,
      },
    );
    this.log(`kube: namespace ${this.namespace} deleted`);
  }
}
