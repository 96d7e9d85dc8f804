import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, VersionApi, type KubernetesObject } from '@kubernetes/client-node';
import { InfraError, UsageError } from '../../errors.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { K8sObject, MeshAdapter, Support } from '../../adapters/types.js';
import { adapterFor, appContext } from '../../adapters/registry.js';
import { patch } from '../../adapters/common.js';
import type { Intent } from '../../intents/types.js';
import type { LoadResult } from '../../load/result.js';
import type { LoadProfile } from '../../load/profile.js';
import { mergeK6 } from '../../load/k6.js';
import { ISTIO_QUIT_URL, jobPodLogs, k6Job, k6JobOutputs, plaintextProbeJob, probeResult } from './k6-job.js';
import { toYaml } from '../../plan/plan.js';
import { Applier, apiCall, applyLayer } from '../../kube/apply.js';
import type { Applied, Evidence, Feature, SidecarStats, Target, Undo, Workload } from '../target.js';
import { eventually } from '../../util/eventually.js';
import { undoLedger } from '../../cli/cleanup.js';
import { apiErrorMessage, kubeClient, kubeconfigPath, serverSideApply, type KubeSettings } from './client.js';
import { startClusterLedger } from './cluster-ledger.js';
import { IstiodView, istiodReads, type Expected } from './istiod.js';


/** The kube target's settings: the context, the installed mesh (adapter name, @version) and the guardrails. */
export interface KubeTargetSettings extends KubeSettings {
  mesh: string;
  /** Namespaces besides the run's own where meshcheck may change objects (a mesh's global config). */
  allowChangesIn?: string[];
  /** istiod's debug endpoint (port 15014); default: a port-forward to a running istiod pod. */
  istiodUrl?: string;
  /** The k6 image for load in the cluster (a mirror of K6_IMAGE). */
  k6Image?: string;
}

/** The annotation kwok puts on the nodes it simulates: no container runs there. */
const SIMULATED_NODE = 'kwok.x-k8s.io/node';

/**
 * The kube target: a user's cluster with a mesh installed. Per run, a namespace of its own (with the
 * mesh's injection setting) and the mesh-shaped workload, waited on until every Deployment is
 * Available. Per scenario, the adapter's objects by server-side apply (field manager meshcheck), each
 * recorded with its prior state in the local ledger and in a ConfigMap of the run's namespace before
 * the call, then waited on until the mesh has them in effect (Istio: istiod's store and every proxy
 * of the namespace acked). Load runs in the cluster as a meshed k6 Job (Istio). On nodes kwok
 * simulates no request can pass: a scenario that sends load ends BROKEN saying so, after its policy
 * was applied, waited on and undone.
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
  /** The intents in effect (every scenario's own, applied one step at a time). */
  private intents: readonly Intent[] = [];
  private istiod?: IstiodView;
  private simulated?: string[];
  /** Whether the running scenario has applied policy yet (for what its BROKEN message says). */
  private appliedInScenario = false;
  private loads = 0;

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

  lacks(_feature: Feature): string | undefined {
    return undefined;
  }

  private ctx() {
    return appContext(this.namespace, this.mesh.version, this.runId);
  }

  render(intents: readonly Intent[]): K8sObject[] {
    return this.adapter.render(intents, this.ctx()).objects;
  }

  /** Deploys the namespace and the workload once per run and waits until they are available. */
  async beforeScenario(): Promise<void> {
    this.appliedInScenario = false;
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
    }, { timeoutMs, intervalMs: 1000, describe: `the workload in namespace ${this.namespace} to become available (are there schedulable nodes, and is ${this.adapter.name} installed?)` });
    this.simulated = await this.simulatedNodes();
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
    const previous = this.intents;
    const before = this.render(previous);
    const objects = this.render([...previous, ...intents]);
    // The guardrail first, for every mesh: what would be changed outside the run's namespace.
    this.guard(objects);
    if (this.adapter.name !== 'istio') {
      throw new InfraError(`the kube target has no "in effect" signal for ${this.adapter.name} in this version (Istio only: istiod's store and the proxies' acks), so it does not apply ${this.adapter.name} policy it could not wait on; meshcheck plan --mesh ${this.settings.mesh} shows what it would apply`);
    }
    this.istiod ??= await IstiodView.connect(this.kc, this.settings.istiodUrl);
    const start = performance.now();
    const undoLayer = await applyLayer(this.applier, before, objects);
    this.intents = [...previous, ...intents];
    const undo: Undo = async () => {
      this.intents = previous;
      await undoLayer();
      // Undone once istiod holds the previous config again.
      await this.istiod!.until(await this.expected(before, objects), this.namespace);
    };
    let seen;
    try {
      seen = await this.istiod.until(await this.expected(objects, before), this.namespace);
    } catch (err) {
      await undo().catch(() => undefined);
      throw err;
    }
    const convergenceMs = performance.now() - start;
    this.convergenceMs.push(convergenceMs);
    this.appliedInScenario = true;
    const held = seen.store.filter((c) => objects.some((o) => o.kind === c.kind && o.metadata.name === c.metadata.name && o.metadata.namespace === c.metadata.namespace));
    const evidence: Evidence[] = [
      { name: 'applied manifests (server-side apply, field manager meshcheck)', contentType: 'application/yaml', body: toYaml(objects) },
      { name: `istiod's store (debug/configz, ${this.istiod.via})`, contentType: 'application/json', body: JSON.stringify(held, null, 2) },
      { name: `proxies of ${this.namespace} synced (debug/syncz)`, contentType: 'application/json', body: JSON.stringify(seen.proxies, null, 2) },
    ];
    return { undo, convergenceMs, evidence };
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

  /** Why no request can be sent here: simulated nodes, or load in the cluster not built yet. */
  private noLoad(what?: string): InfraError {
    const applied = this.appliedInScenario ? `; the scenario's policy was applied, ${this.adapter.name === 'istio' ? 'istiod held it' : 'waited on'}, and it is undone` : '';
    if (this.simulated?.length) {
      return new InfraError(`no data plane on simulated nodes: the workload of ${this.namespace} is scheduled on ${this.simulated.join(', ')}, which kwok simulates (no container runs there), so no request can pass${applied}`);
    }
    return new InfraError(`${what} on the kube target is not built in this version${applied}`);
  }

  private notYet(what: string): InfraError {
    return new InfraError(`${what} on the kube target is not built in this version`);
  }

  /**
   * Load through the mesh from the cluster: the profile's k6 script in a meshed Job of the run's
   * namespace (as the load client), the pods' logs read back and merged request by request.
   */
  async load(p: LoadProfile): Promise<LoadResult> {
    if (this.simulated?.length) throw this.noLoad();
    if (this.adapter.name !== 'istio') throw new InfraError(`load in the cluster is built for Istio only in this version (the Job's pod must tell its ${this.adapter.name} proxy to quit when k6 ends)`);
    if (p.caller && p.caller !== this.ctx().loadClient) throw this.notYet(`sending load as ${p.caller}`);
    const name = `k6-${++this.loads}`;
    const objects = k6Job(p, { ctx: this.ctx(), name, url: `http://${p.service}:${this.ctx().port}`, image: this.settings.k6Image, parallelism: Math.max(1, Math.ceil((p.rps ?? 0) / 1000)), quitUrl: ISTIO_QUIT_URL });
    const startedAt = Date.now();
    const t0 = performance.now();
    const undo = await this.applier.apply(objects);
    try {
      const outputs = await k6JobOutputs(this.kc, this.namespace, name, (p.rps ? (p.requests * 1000) / p.rps : 60_000) + 120_000);
      return mergeK6(p, outputs, startedAt, performance.now() - t0);
    } finally {
      await undo();
    }
  }
  loadDirect(): Promise<LoadResult> { return Promise.reject(this.noLoad('the overhead baseline (load straight to a workload, outside the mesh)')); }
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
    return async () => {
      await undo();
      await this.rolledOut(off, `${off.join(', ')} back`);
    };
  }

  /** Waits until each Deployment has exactly the replicas its spec asks for, updated and ready. */
  private async rolledOut(names: readonly string[], what: string): Promise<void> {
    const apps = this.kc.makeApiClient(AppsV1Api);
    await eventually(async () => {
      for (const name of names) {
        const d = await apps.readNamespacedDeployment({ name, namespace: this.namespace });
        const want = d.spec?.replicas ?? 1;
        const st = d.status ?? {};
        if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) || (st.replicas ?? 0) !== want || (st.readyReplicas ?? 0) !== want || (st.updatedReplicas ?? 0) !== want) return false;
      }
      return true;
    }, { timeoutMs: Number(process.env.MESHCHECK_KUBE_READY_TIMEOUT_MS ?? 180_000), intervalMs: 500, describe: what });
  }
  instancesOf(): Workload[] { throw this.notYet('addressing single instances'); }
  setBehaviour(): Promise<Undo> { return Promise.reject(this.notYet('making an instance fail or slow')); }
  failedCount(): Promise<number> { return Promise.reject(this.notYet('counting an instance\'s failures')); }
  callerInstance(): string | undefined { return undefined; }
  sidecarStats(): Promise<SidecarStats[]> { return Promise.reject(this.notYet('sidecar CPU and memory')); }
  metricsTargets(): string[] { return []; }
  spawnAux(): Promise<{ pid: number }> { return Promise.reject(this.notYet('querying Prometheus (the cluster\'s own, over its HTTP API)')); }
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

/**
 * Objects outside the run's namespace need the user's leave (--allow-changes-in), kube-system
 * included; cluster-scoped objects other than the run's own Namespace are never changed. Why not, or
 * undefined when every object may be changed.
 */
export function refusedChanges(objects: readonly K8sObject[], namespace: string, allowed: readonly string[]): string | undefined {
  const outside = objects.filter((o) => {
    if (o.kind === 'Namespace') return o.metadata.name !== namespace;
    return !o.metadata.namespace || (o.metadata.namespace !== namespace && !allowed.includes(o.metadata.namespace));
  });
  if (!outside.length) return undefined;
  const names = outside.map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`);
  const namespaces = [...new Set(outside.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : [])))];
  const scoped = outside.some((o) => !o.metadata.namespace);
  return `this scenario would change ${names.join(', ')} outside the run's namespace ${namespace}; meshcheck changes nothing there unless allowed${namespaces.length ? `: --allow-changes-in ${namespaces.join(',')}` : ''}${scoped ? `${namespaces.length ? '; ' : ': '}cluster-scoped objects are never changed` : ''}`;
}

/** `--allow-changes-in a,b`: the list, each a valid namespace name. */
export function allowedNamespaces(flag: string | undefined): string[] {
  if (!flag) return [];
  const list = flag.split(',').map((s) => s.trim()).filter(Boolean);
  for (const ns of list) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) throw new UsageError(`--allow-changes-in: "${ns}" is not a namespace name`);
  return list;
}
