import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiextensionsV1Api, AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, VersionApi, type KubernetesObject } from '@kubernetes/client-node';
import { InfraError, UsageError } from '../../errors.js';
import { refusedChanges } from './guard.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { K8sObject, MeshAdapter, Support } from '../../adapters/types.js';
import { adapterFor, appContext } from '../../adapters/registry.js';
import { patch } from '../../adapters/common.js';
import type { Intent } from '../../intents/types.js';
import type { LoadResult } from '../../load/result.js';
import type { LoadProfile } from '../../load/profile.js';
import { mergeK6 } from '../../load/k6.js';
import { callerPod, jobPodLogs, K6_REST_PORT, k6Job, k6JobOutputs, k6TestRun, OUTSIDE, plaintextProbeJob, probeResult, testRunFailure, type K6JobOptions } from './k6-job.js';
import { toYaml } from '../../plan/plan.js';
import { Applier, apiCall, applyLayer } from '../../kube/apply.js';
import type { Applied, Evidence, Feature, Misbehaviour, SidecarStats, Target, Undo, Workload } from '../target.js';
import { eventually } from '../../util/eventually.js';
import { undoLedger } from '../../cli/cleanup.js';
import { apiErrorMessage, kubeClient, kubeconfigPath, serverSideApply, type KubeSettings } from './client.js';
import { startClusterLedger } from './cluster-ledger.js';
import { IstiodView, istiodReads, type Expected } from './istiod.js';
import { generations, keyOf, untilInEffect, withoutSignal, type Before } from './mesh-status.js';
import { PodInstances } from './instances.js';
import { sidecarUsage, throughNodeProxy } from './usage.js';
import { clusterPrometheus } from './cluster-prometheus.js';
import type { Forwarded } from './port-forward.js';
import type { Prometheus } from '../../metrics/prometheus.js';
import { requestsByCode } from '../../metrics/promql.js';


/** The kube target's settings: the context, the installed mesh (adapter name, @version) and the guardrails. */
export interface KubeTargetSettings extends KubeSettings {
  mesh: string;
  /** Namespaces besides the run's own where meshcheck may change objects (a mesh's global config). */
  allowChangesIn?: string[];
  /** istiod's debug endpoint (port 15014); default: a port-forward to a running istiod pod. */
  istiodUrl?: string;
  /** The k6 image for load in the cluster (a mirror of K6_IMAGE). */
  k6Image?: string;
  /** A registry that mirrors the public images meshcheck deploys. */
  imageMirror?: string;
  /** The cluster's Prometheus: its URL, or NAMESPACE/NAME:PORT of its Service. */
  prometheusUrl?: string;
  prometheusService?: string;
}

/** Intents in effect and the objects applied for them. */
interface Layer {
  intents: readonly Intent[];
  objects: K8sObject[];
}

/** The annotation kwok puts on the nodes it simulates: no container runs there. */
const SIMULATED_NODE = 'kwok.x-k8s.io/node';

/**
 * The kube target: a user's cluster with a mesh installed. Per run, a namespace of its own (with the
 * mesh's injection setting) and the mesh-shaped workload, waited on until every Deployment is
 * Available. Per scenario, the adapter's objects by server-side apply (field manager meshcheck), each
 * recorded with its prior state in the local ledger and in a ConfigMap of the run's namespace before
 * the call, then waited on until the mesh has them in effect (Istio: istiod's store and every proxy
 * of the namespace acked; Linkerd and Consul: the status their controllers write, mesh-status.ts).
 * Load runs in the cluster as k6 Jobs meshed as the caller; single instances are reached on the echo
 * workload's direct port by port-forward; metrics come from the cluster's Prometheus and cAdvisor.
 * On nodes kwok simulates no request can pass: a scenario that sends load ends BROKEN saying so,
 * after its policy was applied, waited on and undone.
 */
export class KubeTarget implements Target {
  private prepared = false;
  private createdNamespace = false;
  readonly convergenceMs: number[] = [];
  readonly label: string;
  readonly mesh: { name: string; version: string };
  readonly workDir: string;
  private readonly adapter: MeshAdapter;
  private readonly applier: Applier;
  /**
   * What is in effect: the intents applied so far (one scenario's, a step at a time) and the objects
   * applied for them. Before the first apply nothing is, even where the adapter renders objects for
   * no intent (Istio's routes that turn default retries off).
   */
  private layer: Layer = { intents: [], objects: [] };
  private istiod?: IstiodView;
  private simulated?: string[];
  /** How the running scenario's policy was found in effect, once it was (for what its BROKEN message says). */
  private inEffectBy?: string;
  private loads = 0;
  private instances?: PodInstances;
  private hasTestRun?: Promise<boolean>;
  private promForward?: Forwarded;

  private constructor(readonly settings: KubeTargetSettings, private readonly kc: KubeConfig, private readonly ledger: Ledger, readonly namespace: string, private readonly runId: string, private readonly log: (m: string) => void) {
    const { adapter, version } = adapterFor(settings.mesh);
    this.adapter = adapter;
    this.mesh = { name: adapter.name, version };
    this.label = adapter.name;
    this.workDir = join(tmpdir(), `meshcheck-${runId}`);
    this.applier = new Applier(kc, ledger, { kubeconfig: kubeconfigPath(settings.kubeconfig), context: settings.context });
  }

  static async connect(settings: KubeTargetSettings, ledger: Ledger, runId: string, log: (m: string) => void): Promise<KubeTarget> {
    const kc = kubeClient(settings);
    try {
      const v = await kc.makeApiClient(VersionApi).getCode();
      log(`kube context ${settings.context}: Kubernetes ${v.gitVersion} at ${kc.getCurrentCluster()?.server}`);
    } catch (err) {
      throw new InfraError(`kube context ${settings.context}: API server not reachable: ${apiErrorMessage(err)}`);
    }
    for (const ns of settings.allowChangesIn ?? []) if (ns === 'kube-system') log('kube: --allow-changes-in kube-system: meshcheck may change objects in kube-system');
    const ns = `meshcheck-${runId.replace(/[^a-z0-9]/g, '').slice(-20)}`;
    return new KubeTarget(settings, kc, ledger, ns, runId, log);
  }

  supportAll(intents: readonly Intent[]): Support[] {
    return this.adapter.supportAll(intents, this.mesh.version);
  }

  lacks(feature: Feature): string | undefined {
    if (feature === 'sidecar-usage' && !this.adapter.sidecar) return `${this.adapter.title} has no sidecar: there is no sidecar CPU or memory to measure`;
    if (feature === 'mesh-metrics' && !this.adapter.requests) return `${this.adapter.title} has no proxies that count requests: there are no mesh metrics to query`;
    return undefined;
  }

  private ctx() {
    return appContext(this.namespace, this.mesh.version, this.runId, this.settings.imageMirror);
  }

  render(intents: readonly Intent[]): K8sObject[] {
    return this.adapter.render(intents, this.ctx()).objects;
  }

  /** Deploys the namespace and the workload once per run and waits until they are available. */
  async beforeScenario(): Promise<void> {
    this.inEffectBy = undefined;
    if (this.prepared) return;
    const [namespace, ...objects] = this.adapter.workload(this.ctx());
    if (namespace?.kind !== 'Namespace') throw new InfraError(`the ${this.adapter.name} workload does not start with its Namespace`);
    const seq = this.ledger.record({ op: 'kube-namespace', context: this.settings.context, kubeconfig: kubeconfigPath(this.settings.kubeconfig), name: this.namespace });
    this.createdNamespace = true;
    this.log(`kube: creating namespace ${this.namespace} and the ${this.adapter.name} workload (${objects.length} objects)`);
    try {
      await apiCall({ verb: 'create', kind: 'Namespace', name: this.namespace }, () => serverSideApply(this.applier.client, namespace as KubernetesObject));
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
    await eventually(async () => {
      const list = await apps.listNamespacedDeployment({ namespace: this.namespace });
      const waiting = list.items.filter((d) => !d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True'));
      if (waiting.length) throw new Error(`not available: ${waiting.map((d) => d.metadata?.name).join(', ')}`);
      return true;
    }, { timeoutMs, intervalMs: 1000, describe: `the workload in namespace ${this.namespace} to become available (are there schedulable nodes, and is ${this.adapter.name} installed?)` }).catch(async (err: Error) => {
      const why = await notReady(this.kc, this.namespace).catch(() => []);
      throw new InfraError(`${err.message}${why.length ? `; pods not ready: ${why.join('; ')}` : ''}`, { cause: err.cause });
    });
    this.simulated = await this.simulatedNodes();
    this.instances = new PodInstances(this.kc, this.ctx());
    await this.instances.refresh();
    this.log(`kube: workload available in ${this.namespace}${this.simulated.length ? ` (on simulated nodes ${this.simulated.join(', ')}: no container runs there)` : ''}`);
    this.prepared = true;
  }

  /** Nodes the workload's pods were scheduled to that kwok simulates. */
  private async simulatedNodes(): Promise<string[]> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: this.namespace });
    const nodes = [...new Set(pods.items.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n)))];
    const out: string[] = [];
    for (const name of nodes) {
      const n = await core.readNode({ name });
      if (n.metadata?.annotations?.[SIMULATED_NODE]) out.push(name);
    }
    return out.sort();
  }

  private guard(objects: readonly K8sObject[]): void {
    const refused = refusedChanges(objects, this.namespace, this.settings.allowChangesIn ?? []);
    if (refused) throw new InfraError(refused);
  }

  async apply(intents: readonly Intent[]): Promise<Applied> {
    const prev = this.layer;
    const before = prev.objects;
    const next: Layer = { intents: [...prev.intents, ...intents], objects: this.render([...prev.intents, ...intents]) };
    const objects = next.objects;
    // The guardrail first, for every mesh: what would be changed outside the run's namespace.
    this.guard(objects);
    if (this.adapter.name !== 'istio') return this.applyOnStatus(prev, next);
    this.istiod ??= await IstiodView.connect(this.kc, this.settings.istiodUrl);
    const start = performance.now();
    const undoLayer = await applyLayer(this.applier, before, objects);
    this.layer = next;
    const undo: Undo = async () => {
      this.layer = prev;
      await undoLayer();
      // Undone once istiod holds the previous config again.
      await this.istiod!.until(await this.expected(before, objects), this.namespace);
    };
    const { seen, convergenceMs } = await this.converged(async () => this.istiod!.until(await this.expected(objects, before), this.namespace), undo, start, 'istiod held it');
    const held = seen.store.filter((c) => objects.some((o) => o.kind === c.kind && o.metadata.name === c.metadata.name && o.metadata.namespace === c.metadata.namespace));
    const evidence: Evidence[] = [
      { name: 'applied manifests (server-side apply, field manager meshcheck)', contentType: 'application/yaml', body: toYaml(objects) },
      { name: `istiod's store (debug/configz, ${this.istiod.via})`, contentType: 'application/json', body: JSON.stringify(held, null, 2) },
      { name: `proxies of ${this.namespace} synced (debug/syncz)`, contentType: 'application/json', body: JSON.stringify(seen.proxies, null, 2) },
    ];
    return { undo, convergenceMs, evidence };
  }

  /** Waits until the applied change is in effect (undone if it never is) and records the time it took. */
  private async converged<T>(wait: () => Promise<T>, undo: Undo, start: number, by: string): Promise<{ seen: T; convergenceMs: number }> {
    let seen: T;
    try {
      seen = await wait();
    } catch (err) {
      await undo().catch(() => undefined);
      throw err;
    }
    const convergenceMs = performance.now() - start;
    this.convergenceMs.push(convergenceMs);
    this.inEffectBy = by;
    return { seen, convergenceMs };
  }

  /**
   * Linkerd, Consul, OSM: applied, then waited on until the mesh's controllers wrote on each object
   * that they have it (mesh-status.ts). What the mesh reads only when a pod starts (Linkerd's
   * namespace default policy) is in effect once the app's pods have restarted. A scenario with an
   * object its mesh writes nothing on is not applied: meshcheck does not apply what it could not
   * wait on. The undo waits the same way: objects the layer created gone, objects it changed (a
   * workload's own Consul intentions, a patched namespace) back and in effect as they were.
   */
  private async applyOnStatus(prev: Layer, next: Layer): Promise<Applied> {
    const mesh = this.adapter.name;
    const [before, objects] = [prev.objects, next.objects];
    const atStart = (o: K8sObject) => this.adapter.readAtPodStart?.(o) ?? false;
    const blind = withoutSignal(mesh, objects.filter((o) => !atStart(o)));
    if (blind.length) {
      throw new InfraError(`the kube target has no "in effect" signal on ${mesh} for ${blind.join(', ')} (${mesh} writes no status on ${blind.length === 1 ? 'it' : 'them'}), so it does not apply policy it could not wait on; meshcheck plan --mesh ${this.settings.mesh} shows what it would apply`);
    }
    const same = (a: K8sObject) => (b: K8sObject) => a.kind === b.kind && a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;
    const timeoutMs = Number(process.env.MESHCHECK_KUBE_IN_EFFECT_TIMEOUT_MS ?? 120_000);
    const client = this.applier.client;
    const restart = [...before, ...objects].some(atStart);
    const wait = async (present: K8sObject[], gone: K8sObject[], gens: Before, at: Date) => {
      const seen = await untilInEffect(client, mesh, present.filter((o) => !atStart(o)), gone, gens, at, timeoutMs);
      if (restart) seen.push(await this.restartApp(`${mesh} reads ${present.concat(gone).filter(atStart).map((o) => `${o.kind} ${o.metadata.name}`).join(', ')} when a pod starts`));
      return seen;
    };
    const gens = await generations(client, objects);
    const start = performance.now();
    const appliedAt = new Date();
    const undoLayer = await applyLayer(this.applier, before, objects);
    this.layer = next;
    const added = objects.filter((o) => !before.some(same(o)));
    const undo: Undo = async () => {
      this.layer = prev;
      // What the layer changed rather than created is put back, and must be in effect again.
      const restored = added.filter((o) => gens.get(keyOf(o)));
      const present = [...before, ...restored];
      const was = await generations(client, present);
      const at = new Date();
      await undoLayer();
      await wait(present, added.filter((o) => !restored.includes(o)), was, at);
    };
    const by = `${mesh}'s controllers reported it in effect${restart ? ' and the app\'s pods restarted to read it' : ''}`;
    const { seen, convergenceMs } = await this.converged(() => wait(objects, before.filter((o) => !objects.some(same(o))), gens, appliedAt), undo, start, by);
    return {
      undo, convergenceMs, evidence: [
        { name: 'applied manifests (server-side apply, field manager meshcheck)', contentType: 'application/yaml', body: toYaml(objects) },
        { name: `in effect: what ${mesh}'s controllers wrote on each object`, contentType: 'application/json', body: JSON.stringify(seen, null, 2) },
      ],
    };
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
      await apiCall({ verb: 'patch', kind: 'Deployment', name, namespace: this.namespace }, () => apps.patchNamespacedDeployment(
        { name, namespace: this.namespace, body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ));
    }
    this.log(`kube: restarting the app's pods: ${why}`);
    await this.rolledOut(names, `the app's pods restarted (${why})`);
    await this.pods().refresh();
    return { object: `Deployments of ${this.namespace}`, how: `restarted at ${at} and rolled out: ${why}` };
  }

  /** What istiod should hold once `present` is applied and what only `gone` had is removed. */
  private async expected(present: readonly K8sObject[], gone: readonly K8sObject[]): Promise<Expected[]> {
    const out: Expected[] = [];
    for (const o of present.filter(istiodReads)) {
      const now = await apiCall({ verb: 'get', kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }, () => this.applier.client.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } }));
      out.push({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, uid: now.metadata!.uid!, generation: now.metadata!.generation ?? 1 });
    }
    for (const o of gone.filter(istiodReads)) {
      if (!present.some((p) => p.kind === o.kind && p.metadata.name === o.metadata.name && p.metadata.namespace === o.metadata.namespace)) out.push({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, absent: true });
    }
    return out;
  }

  /** Why no request can be sent on simulated nodes, and what became of the scenario's policy. */
  private noLoad(): InfraError {
    const applied = this.inEffectBy ? `; the scenario's policy was applied, ${this.inEffectBy}, and it is undone` : '';
    return new InfraError(`no data plane on simulated nodes: the workload of ${this.namespace} is scheduled on ${this.simulated?.join(', ')}, which kwok simulates (no container runs there), so no request can pass${applied}`);
  }

  private notYet(what: string): InfraError {
    return new InfraError(`${what} on the kube target is not built in this version`);
  }

  /**
   * Load through the mesh from the cluster: the profile's k6 script in a Job of the run's namespace
   * whose pods are meshed as the caller's (its labels, annotations and ServiceAccount; the load
   * client by default), the pods' logs read back and merged request by request.
   */
  load(p: LoadProfile): Promise<LoadResult> {
    if (this.simulated?.length) return Promise.reject(this.noLoad());
    const caller = p.caller ?? this.ctx().loadClient;
    return this.k6(p, { url: `http://${p.service}:${this.ctx().port}`, pod: callerPod(this.adapter.workload(this.ctx()), caller), quitUrl: this.adapter.sidecar?.quitUrl });
  }

  /** Whether k6-operator's TestRun kind is served (its CRD installed); asked once per run. */
  private async testRunInstalled(): Promise<boolean> {
    this.hasTestRun ??= this.kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'testruns.k6.io' }).then(() => true, (err: { code?: number }) => {
      if (err.code !== 404) this.log(`kube: cannot tell whether k6-operator is installed (${apiErrorMessage(err)}); load runs as Jobs`);
      return false;
    });
    return this.hasTestRun;
  }

  /**
   * The overhead baseline: the same load from a pod outside the mesh straight to one instance's
   * direct port, which its sidecar does not intercept: no proxy on either side.
   */
  loadDirect(p: LoadProfile, instance: Workload): Promise<LoadResult> {
    if (this.simulated?.length) return Promise.reject(this.noLoad());
    const i = this.pods().find(instance.name);
    const host = i.podIP.includes(':') ? `[${i.podIP}]` : i.podIP;
    return this.k6(p, { url: `http://${host}:${this.ctx().directPort}`, pod: OUTSIDE });
  }

  /**
   * Runs a load in the cluster: a k6-operator TestRun where its CRD is installed and the load needs
   * more than one k6 (the operator splits it by execution segments), else an Indexed Job.
   */
  private async k6(p: LoadProfile, o: Pick<K6JobOptions, 'url' | 'pod' | 'quitUrl'>): Promise<LoadResult> {
    const name = `k6-${++this.loads}`;
    const options: K6JobOptions = { ctx: this.ctx(), name, image: this.settings.k6Image, parallelism: Math.max(1, Math.ceil((p.rps ?? 0) / 1000)), ...o };
    const testRun = (options.parallelism ?? 1) > 1 && (await this.testRunInstalled());
    const objects = testRun
      ? k6TestRun(p, { ...options, pod: { ...options.pod, annotations: { ...options.pod.annotations, ...this.adapter.skipInbound(K6_REST_PORT) } } })
      : k6Job(p, options);
    const pods = testRun ? options.parallelism! : (objects.find((x) => x.kind === 'Job')!.spec as { completions: number }).completions;
    const startedAt = Date.now();
    const t0 = performance.now();
    const undo = await this.applier.apply(objects);
    try {
      const outputs = await k6JobOutputs(this.kc, this.namespace, name, (p.rps ? (p.requests * 1000) / p.rps : 60_000) + 180_000, pods, testRun ? testRunFailure(this.kc, this.namespace, name) : undefined);
      return mergeK6(p, outputs, startedAt, performance.now() - t0);
    } finally {
      await undo();
    }
  }

  /**
   * A plaintext client outside the mesh calls each instance of the service straight at its pod
   * address: a Job without a sidecar (plaintextProbeJob), its log read back.
   */
  async plaintextProbe(service: string): Promise<{ attempts: number; rejected: number; detail: string[] }> {
    if (this.simulated?.length) throw this.noLoad();
    const core = this.kc.makeApiClient(CoreV1Api);
    const pods = (await core.listNamespacedPod({ namespace: this.namespace, labelSelector: `app=${service}` })).items.filter((p) => p.status?.phase === 'Running' && p.status.podIP && !p.metadata?.deletionTimestamp);
    if (!pods.length) throw new InfraError(`the plaintext probe found no running instance of ${service} in ${this.namespace}`);
    const targets = pods.map((p) => ({ instance: p.metadata!.name!, address: `${p.status!.podIP!.includes(':') ? `[${p.status!.podIP}]` : p.status!.podIP}:${this.ctx().port}` }));
    const name = `probe-${++this.loads}`;
    const undo = await this.applier.apply(plaintextProbeJob({ ctx: this.ctx(), name, service, targets, image: this.settings.k6Image }));
    try {
      const [pod] = await jobPodLogs(this.kc, this.namespace, name, 'probe', 120_000);
      const r = probeResult(pod?.log ?? '');
      if (r.attempts !== targets.length) throw new InfraError(`the plaintext probe reported ${r.attempts} of ${targets.length} instances of ${service}; its log ends: ${(pod?.log ?? '').trim().split('\n').slice(-5).join(' | ')}`);
      return r;
    } finally {
      await undo();
    }
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
  private async rolledOut(names: readonly string[], what: string): Promise<void> {
    const apps = this.kc.makeApiClient(AppsV1Api);
    let pending: string[] = [];
    await eventually(async () => {
      pending = [];
      for (const name of names) {
        const d = await apps.readNamespacedDeployment({ name, namespace: this.namespace });
        const want = d.spec?.replicas ?? 1;
        const st = d.status ?? {};
        if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) || (st.replicas ?? 0) !== want || (st.readyReplicas ?? 0) !== want || (st.updatedReplicas ?? 0) !== want) {
          pending.push(`${name} (${st.updatedReplicas ?? 0} updated, ${st.readyReplicas ?? 0} ready, ${st.replicas ?? 0} in all, of ${want}; generation ${st.observedGeneration ?? 0} seen of ${d.metadata?.generation ?? 0})`);
        }
      }
      return pending.length === 0;
    }, { timeoutMs: Number(process.env.MESHCHECK_KUBE_READY_TIMEOUT_MS ?? 150_000), intervalMs: 500, describe: what }).catch(async (err: Error) => {
      const why = await notReady(this.kc, this.namespace).catch(() => []);
      throw new InfraError(`${err.message}: ${pending.join('; ')}${why.length ? `; pods not ready: ${why.join('; ')}` : ''}`);
    });
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
    if (this.simulated?.length) throw this.noLoad();
    const done: string[] = [];
    const undo: Undo = async () => {
      for (const name of done) await this.pods().behave(name, {});
    };
    try {
      for (const i of instances) {
        done.push(i.name);
        await this.pods().behave(i.name, b);
      }
    } catch (err) {
      await undo().catch(() => undefined);
      throw err;
    }
    return undo;
  }

  failedCount(instance: Workload): Promise<number> {
    return this.pods().failed(instance.name);
  }

  /** The caller's sidecar is in each load's own Job pod, gone after it: only the destination's sidecar is measured. */
  callerInstance(): string | undefined {
    return undefined;
  }

  /** Each instance's sidecar: cumulative CPU-seconds and working-set memory from cAdvisor on its node. */
  sidecarStats(): Promise<SidecarStats[]> {
    if (this.simulated?.length) return Promise.reject(this.noLoad());
    if (!this.adapter.sidecar) return Promise.reject(new InfraError(this.lacks('sidecar-usage')!));
    return sidecarUsage(throughNodeProxy(this.kc), this.namespace, this.adapter.sidecar.container, this.pods().all);
  }

  requestsByCode(service: string): { query: string; codeLabel: string } {
    const m = this.adapter.requests;
    if (!m) throw new InfraError(this.lacks('mesh-metrics')!);
    return { query: requestsByCode(service, m, this.namespace), codeLabel: m.codeLabel };
  }

  /** The cluster's own Prometheus (--prometheus-url or --prometheus-service); meshcheck starts none here. */
  async prometheus(): Promise<Prometheus> {
    if (this.simulated?.length) throw this.noLoad();
    const { prometheus, forwarded } = await clusterPrometheus(this.kc, this.namespace, { url: this.settings.prometheusUrl, service: this.settings.prometheusService });
    this.promForward = forwarded;
    return prometheus;
  }

  metricsTargets(): string[] { return []; }
  spawnAux(): Promise<{ pid: number }> { return Promise.reject(new InfraError('the kube target starts no process of its own on this machine')); }
  processGroups(): number[] { return []; }
  stopControlPlane(): Promise<Undo> { return Promise.reject(this.notYet('stopping the mesh control plane')); }
  restartControlPlane(): Promise<{ downMs: number; readyMs: number }> { return Promise.reject(this.notYet('restarting the mesh control plane')); }

  describe(): Record<string, unknown> {
    return {
      mesh: this.adapter.name, version: this.mesh.version, context: this.settings.context, namespace: this.namespace,
      ...(this.istiod ? { istiod: this.istiod.via } : {}), ...(this.simulated?.length ? { simulatedNodes: this.simulated } : {}),
      convergenceMs: this.convergenceMs.map((x) => Number(x.toFixed(1))),
    };
  }

  /** Deletes the run's namespace (and with it everything meshcheck created in it) and waits until it is gone. */
  async stop(): Promise<void> {
    this.istiod?.close();
    this.instances?.close();
    this.promForward?.close();
    // Whatever the ledger still holds (an interrupt skips the scenario's own undo) is put back from it,
    // and the namespace is deleted with everything meshcheck created in it.
    for (const line of await undoLedger(this.ledger.file)) this.log(`kube: ${line}`);
    if (!this.createdNamespace) return;
    const core = this.kc.makeApiClient(CoreV1Api);
    await eventually(async () => {
      try {
        await core.readNamespace({ name: this.namespace });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    }, { timeoutMs: Number(process.env.MESHCHECK_KUBE_DELETE_TIMEOUT_MS ?? 120_000), intervalMs: 500, describe: `namespace ${this.namespace} to be deleted (its finalizers: the cluster's namespace controller)` });
    this.log(`kube: namespace ${this.namespace} deleted`);
  }
}

/** Why the pods of a namespace that are not ready are not: a condition's reason and message, or a container's waiting reason. */
async function notReady(kc: KubeConfig, namespace: string): Promise<string[]> {
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp && !p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).slice(0, 5).map((p) => {
    const c = p.status?.conditions?.find((x) => x.status !== 'True' && (x.reason || x.message));
    const waiting = p.status?.containerStatuses?.find((x) => x.state?.waiting?.reason)?.state?.waiting;
    const why = c ? `${c.type} ${c.status}: ${[c.reason, c.message].filter(Boolean).join(': ')}` : waiting ? `waiting: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` : `phase ${p.status?.phase ?? 'unknown'}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ', not scheduled'}`;
    return `${p.metadata?.name} (${why})`;
  });
}
