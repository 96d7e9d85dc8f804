import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import { BOOKINFO, LOAD_CLIENT } from '../../app/topology.js';
import { appContext, dataPlaneOf } from '../../meshes/registry.js';

/** The Istio mesh with its proxyless gRPC data plane: what the tier runs. */
const istioProxyless = dataPlaneOf('istio', 'proxyless gRPC');
import type { K8sObject } from '../../kube/objects.js';
import type { RenderContext, Support } from '../../meshes/types.js';
import { toYaml } from '../../util/yaml.js';
import { InfraError, UsageError } from '../../errors.js';
import type { Intent } from '../../intents/types.js';
import type { Ledger } from '../../ledger/ledger.js';
import { Applier, applyLayer } from '../../kube/apply.js';
import { tool } from '../../util/tools.js';
import { grpcName } from '../../load/grpc-status.js';
import { profile, type LoadProfile } from '../../load/profile.js';
import type { LoadResult } from '../../load/result.js';
import { ISTIOD_BUILDS, ISTIO_TIER_MINOR } from './istiod-builds.js';
import { eventually } from '../../util/eventually.js';
import { ProcessGroup } from '../../process/process-group.js';
import type { Applied, ControlPlanePort, LoadOptions, Misbehaviour, PolicyPort, ProbeResult, Target, TrafficPort, WorkloadPort, Workload } from '../ports.js';
import type { Evidence } from '../../evidence.js';
import type { CheckFeature } from '../../meshes/types.js';
import { orUndo, type Undo } from '../../util/undo.js';
import { IstioControlPlane } from './control-plane.js';
import { runProxyless, startAgent, stopRunningLoads } from './proxyless-load.js';
import type { ProxylessAgent } from '../../load/proxyless-client.js';
import type { XdsWatch } from './xds-watch.js';
import { CLIENT_NODE, NAMESPACE, bringUp, type Running } from './bring-up.js';
import { appliedPredicates, servedEvidence, servedState } from './served.js';



/**
 * The Istio tier: real istiod against the project's kube-apiserver, and Istio's proxyless gRPC data
 * plane (meshcheck-proxyless: grpc-go's xDS server and client) on loopback addresses of their own.
 * The Istio adapter's objects are server-side applied and istiod translates them; a change is in
 * effect once the xDS istiod serves shows it.
 */
export class IstioTarget implements Target, PolicyPort, WorkloadPort, TrafficPort, ControlPlanePort {
  readonly policy: PolicyPort = this;
  readonly workloads: WorkloadPort = this;
  readonly traffic: TrafficPort = this;
  readonly controlPlane: ControlPlanePort = this;
  readonly convergenceMs: number[] = [];
  /** Load goes through grpc-go's xDS client: the proxyless load client, whatever --load-engine says. */
  readonly engine = istioProxyless.ownWorkload!.engine;
  /** Responses are gRPC statuses: a status claim counts the code a caller gets for it. */
  readonly reading = istioProxyless.ownWorkload!.reading;
  readonly dataPath = istioProxyless.ownWorkload!.dataPath;
  readonly label: string;
  readonly mesh: { name: string; version: string; dataPlane: string };
  private readonly instances: Running[] = [];
  private readonly callerBootstraps = new Map<string, string>();
  private readonly ctx: RenderContext;
  private activeVersions = new Map<string, string[]>();
  /** The intents in effect (every scenario's own, applied one step at a time). */
  private intents: readonly Intent[] = [];
  private applier!: Applier;
  private watch?: XdsWatch;
  private bringUpMs = 0;
  private readonly outages: { downMs: number; readyMs: number }[] = [];
  /** While the control plane is stopped: the clients that were running before, one per caller. */
  private agents?: Map<string, ProxylessAgent>;

  private constructor(
    readonly workDir: string,
    private readonly group: ProcessGroup,
    private readonly ledger: Ledger,
    private readonly cp: IstioControlPlane,
    private readonly block: string,
  ) {
    this.ctx = appContext(NAMESPACE, cp.minor);
    this.label = `istio ${cp.minor} (proxyless)`;
    this.mesh = { name: 'istio', version: cp.minor, dataPlane: 'proxyless gRPC' };
  }

  /** Brings the tier up; if it does not come up, its logs are copied to `keepLogsIn` before its folder goes. */
  static async start(ledger: Ledger, log: (m: string) => void = () => undefined, keepLogsIn?: string, minor = ISTIO_TIER_MINOR): Promise<IstioTarget> {
    tool('meshcheck-proxyless');
    const t0 = performance.now();
    const workDir = mkdtempSync(join(tmpdir(), `meshcheck-${ledger.runId}-`));
    ledger.record({ op: 'directory', path: workDir, what: 'Istio tier: apiserver, istiod, certificates and logs' });
    const group = await ProcessGroup.start(ledger, workDir);
    let t: IstioTarget | undefined;
    try {
      const block = await freeBlock(BOOKINFO.reduce((n, s) => n + s.versions.length, 0) + 2);
      const cp = await IstioControlPlane.start(group, workDir, log, minor);
      t = new IstioTarget(workDir, group, ledger, cp, block);
      await t.boot(log);
      t.bringUpMs = performance.now() - t0;
      log(`Istio tier up in ${(t.bringUpMs / 1000).toFixed(1)}s (istiod ${cp.version}, ${t.instances.length} proxyless workloads on ${block}.0/24)`);
      return t;
    } catch (err) {
      t?.stopClients();
      await group.stop();
      // The logs the error points at outlive the tier's folder: copied into the run folder, same layout.
      if (keepLogsIn && keepLogs(workDir, keepLogsIn) && err instanceof Error) err.message = err.message.replaceAll(workDir, keepLogsIn);
      rmSync(workDir, { recursive: true, force: true });
      throw err;
    }
  }

  private async boot(log: (m: string) => void): Promise<void> {
    this.applier = new Applier(this.cp.api.kubeconfig, this.ledger, { kubeconfig: this.cp.api.kubeconfigFile, ownServer: true });
    const up = await bringUp({
      cp: this.cp,
      group: this.group,
      applier: this.applier,
      workDir: this.workDir,
      ctx: this.ctx,
      block: this.block,
      baseline: this.render([]),
      log,
    });
    this.instances.push(...up.instances);
    for (const [k, v] of up.callerBootstraps) this.callerBootstraps.set(k, v);
    this.watch = up.watch;
    await this.watch.until(() => this.endpointsServed(), 'every workload in EDS', 20_000);
  }

  private listenerOf(service: string): string {
    return `${service}.${NAMESPACE}.svc.cluster.local:${this.ctx.port}`;
  }

  /** Every service's default cluster in EDS holds exactly the addresses of its running versions. */
  private endpointsServed(): boolean {
    return BOOKINFO.every((s) => {
      const want = this.instancesOf(s.name)
        .map((i) => (i as Running).address)
        .sort();
      const cla = this.watch!.of(CLIENT_NODE, 'eds').find(
        (r) => r.clusterName === `outbound|${this.ctx.port}||${s.name}.${NAMESPACE}.svc.cluster.local`,
      );
      return JSON.stringify(endpointAddresses(cla).sort()) === JSON.stringify(want);
    });
  }

  supportAll(intents: readonly Intent[]): Support[] {
    return istioProxyless.supportAll(intents, this.ctx.meshVersion);
  }

  lacks(feature: CheckFeature): string | undefined {
    return istioProxyless.lacks?.(feature);
  }

  render(intents: readonly Intent[]): K8sObject[] {
    return istioProxyless.render(intents, { ...this.ctx, runId: this.ledger.runId }).objects;
  }

  /**
   * Puts intents in effect on top of those already in effect: the adapter renders them all together
   * (one VirtualService per service carries every route intent), meshcheck applies what changed, and
   * waits until istiod serves it. The undo puts back the objects as they were and waits for the
   * served config from before.
   */
  async apply(intents: readonly Intent[]): Promise<Applied> {
    this.assertControlPlane('a policy');
    const previous = this.intents;
    const objects = this.render([...previous, ...intents]);
    const before = servedState(this.watch!);
    const start = performance.now();
    const undoLayer = await applyLayer(this.applier, this.render(previous), objects);
    this.intents = [...previous, ...intents];
    const undo: Undo = async () => {
      this.intents = previous;
      await undoLayer();
      // Undone once istiod serves what it served before the apply.
      await this.watch!.until(() => servedState(this.watch!) === before, 'the config from before the scenario again');
    };
    const checks = appliedPredicates(objects, {
      namespace: NAMESPACE,
      port: this.ctx.port,
      instancesOf: (s) => this.instancesOf(s).map((i) => i.name),
      client: CLIENT_NODE,
    });
    await orUndo(
      () =>
        this.watch!.until(
          () => checks.every((c) => c.holds(this.watch!)),
          `the applied policy (${
            checks
              .filter((c) => !c.holds(this.watch!))
              .map((c) => c.what)
              .join('; ') || 'all'
          })`,
        ),
      undo,
    );
    const convergenceMs = performance.now() - start;
    this.convergenceMs.push(convergenceMs);
    const evidence: Evidence[] = [
      { name: 'applied manifests (server-side apply, field manager meshcheck)', contentType: 'application/yaml', body: toYaml(objects) },
      {
        name: 'xDS istiod served (the parts carrying the policy)',
        contentType: 'application/json',
        body: JSON.stringify(
          servedEvidence(this.watch!, intents, {
            namespace: NAMESPACE,
            port: this.ctx.port,
            client: CLIENT_NODE,
            instancesOf: (s) => this.instancesOf(s).map((i) => i.name),
          }),
          null,
          2,
        ),
      },
    ];
    return { undo, convergenceMs, evidence };
  }

  async runVersions(service: string, versions: string[]): Promise<Undo> {
    this.assertControlPlane('a change of endpoints');
    const all = this.instances.filter((i) => i.service === service);
    const missing = versions.filter((v) => !all.some((i) => i.version === v));
    if (missing.length)
      throw new UsageError(
        `the Istio tier's app has no version ${missing.join(', ')} of "${service}"; it runs ${all.map((i) => i.version).join(', ')}`,
      );
    const gone = all.filter((i) => !versions.includes(i.version));
    const before = this.activeVersions.get(service);
    const entries = gone.map(
      (i) => ({ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: i.name, namespace: NAMESPACE } }) as K8sObject,
    );
    const restore = await this.applier.remove(entries);
    this.activeVersions.set(service, versions);
    const undo: Undo = async () => {
      await restore();
      if (before) this.activeVersions.set(service, before);
      else this.activeVersions.delete(service);
      await this.watch!.until(() => this.endpointsServed(), `the endpoints of ${service} back in EDS`);
    };
    await orUndo(() => this.watch!.until(() => this.endpointsServed(), `only versions ${versions.join(', ')} of ${service} in EDS`), undo);
    return undo;
  }

  instancesOf(service: string): Workload[] {
    const versions = this.activeVersions.get(service);
    return this.instances.filter((i) => i.service === service && (!versions || versions.includes(i.version)));
  }

  async setBehaviour(instances: readonly Workload[], b: Misbehaviour): Promise<Undo> {
    const set = (body: object) => Promise.all(instances.map((i) => control(this.running(i), 'POST', body)));
    const undo: Undo = async () => {
      await set({});
    };
    await orUndo(() => set(istioProxyless.ownWorkload!.control.body(b)), undo);
    return undo;
  }

  async failedCount(instance: Workload): Promise<number> {
    return ((await control(this.running(instance), 'GET')) as { failed: number }).failed;
  }

  private running(w: Workload): Running {
    const r = this.instances.find((i) => i.name === w.name);
    if (!r) throw new InfraError(`no instance ${w.name}`);
    return r;
  }

  async load(p: LoadProfile, o: LoadOptions): Promise<LoadResult> {
    const caller = p.caller ?? LOAD_CLIENT;
    const bootstrapFile = this.callerBootstraps.get(caller);
    if (!bootstrapFile) throw new UsageError(`unknown caller "${caller}"; expected one of ${[...this.callerBootstraps.keys()].join(', ')}`);
    const agent = this.agents?.get(caller);
    if (agent) return agent.run(p, { target: `xds:///${this.listenerOf(p.service)}`, shouldStop: o.shouldStop, onProgress: o.onProgress });
    return runProxyless(p, { target: `xds:///${this.listenerOf(p.service)}`, bootstrapFile, shouldStop: o.shouldStop, onProgress: o.onProgress });
  }

  async loadDirect(p: LoadProfile, instance: Workload, o: LoadOptions): Promise<LoadResult> {
    return runProxyless(p, { target: this.running(instance).plain, shouldStop: o.shouldStop, onProgress: o.onProgress });
  }

  callerInstance(): string | undefined {
    return undefined;
  }

  async plaintextProbe(service: string): Promise<ProbeResult> {
    const insts = this.instancesOf(service).map((i) => this.running(i));
    let rejected = 0;
    const detail: string[] = [];
    for (const i of insts) {
      // Plain gRPC (insecure credentials, no xDS) straight to the instance's address.
      const r = await runProxyless(profile({ service, requests: 1, maxInFlight: 1 }), { target: i.address });
      const s = r.samples[0];
      if (!s || s.grpc !== 0) rejected++;
      detail.push(`${i.name} (${i.address}): ${s ? `gRPC ${grpcName(s.grpc ?? 2)}` : 'no answer'}`);
    }
    return { attempts: insts.length, rejected, detail };
  }

  ownProcessGroups(): number[] {
    return [this.group.pgid];
  }

  /**
   * Stops istiod. Loads from then on go through clients that were running before it stopped (one per
   * caller, their channels connected to every service), as a running data plane does: a client
   * started while istiod is away could get no config at all. The undo starts istiod again and waits
   * until every workload is connected to it again.
   */
  async stopControlPlane(): Promise<Undo> {
    const targets = BOOKINFO.map((s) => `xds:///${this.listenerOf(s.name)}`);
    const agents = new Map<string, ProxylessAgent>();
    const stopAgents = () => {
      for (const a of agents.values()) a.stop();
      this.agents = undefined;
    };
    try {
      for (const [caller, file] of this.callerBootstraps) agents.set(caller, await startAgent(targets, file));
      this.agents = agents;
      await this.cp.stopIstiod();
    } catch (err) {
      stopAgents();
      throw err;
    }
    return async () => {
      try {
        if (!this.cp.running) await this.restarted(() => this.cp.startIstiod());
      } finally {
        stopAgents();
      }
    };
  }

  async restartControlPlane(): Promise<{ downMs: number; readyMs: number }> {
    const t0 = performance.now();
    await this.cp.stopIstiod();
    const down = performance.now();
    await this.restarted(() => this.cp.startIstiod());
    const r = { downMs: Number((down - t0).toFixed(1)), readyMs: Number((performance.now() - down).toFixed(1)) };
    this.outages.push(r);
    return r;
  }

  /** Starts istiod and waits until every workload and the watcher hold an xDS stream to it again. */
  private async restarted(start: () => Promise<void>): Promise<void> {
    const since = Date.now();
    await start();
    const want = [...this.instances.map((i) => `${i.name}.${NAMESPACE}`), `${LOAD_CLIENT}-watch.${NAMESPACE}`];
    await eventually(
      async () => {
        const r = await request(`http://127.0.0.1:${this.cp.ports.http}/debug/connections`, { signal: AbortSignal.timeout(2000) });
        const body = (await r.body.json()) as { clients?: { connectionId: string; connectedAt: string }[] };
        const connected = new Set(
          (body.clients ?? []).filter((c) => Date.parse(c.connectedAt) >= since - 1000).map((c) => c.connectionId.replace(/-\d+$/, '')),
        );
        return want.every((w) => connected.has(w));
      },
      { timeoutMs: 60_000, intervalMs: 100, describe: 'every proxyless workload connected to istiod again' },
    );
  }

  private assertControlPlane(what: string): void {
    if (!this.cp.running) throw new InfraError(`the mesh control plane is stopped: ${what} cannot take effect until it runs again`);
  }

  describe(): Record<string, unknown> {
    return {
      mesh: 'istio',
      istiod: this.cp.version,
      istioModule: ISTIOD_BUILDS[this.cp.minor]?.module,
      dataPlane: 'proxyless gRPC (grpc-go xDS)',
      bringUpMs: Math.round(this.bringUpMs),
      convergenceMs: this.convergenceMs.map((x) => Number(x.toFixed(1))),
      controlPlaneRestarts: this.outages,
    };
  }

  private stopClients(): void {
    for (const a of this.agents?.values() ?? []) a.stop();
    stopRunningLoads();
    this.watch?.stop();
  }

  async stop(): Promise<void> {
    this.stopClients();
    await this.group.stop();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** Copies every *.log under `dir` to the same place under `dest`; how many. */
function keepLogs(dir: string, dest: string): number {
  const logs = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.log'));
  for (const f of logs) {
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    copyFileSync(join(dir, f), join(dest, f));
  }
  return logs.length;
}

async function control(i: Running, method: 'GET' | 'POST', body?: object): Promise<unknown> {
  const r = await request(`http://${i.control}/behaviour`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}), signal: AbortSignal.timeout(5000) });
  const text = await r.body.text();
  if (r.statusCode >= 300) throw new InfraError(`${method} /behaviour on ${i.name}: ${r.statusCode} ${text}`);
  return JSON.parse(text) as unknown;
}

function endpointAddresses(cla: Record<string, unknown> | undefined): string[] {
  const out: string[] = [];
  for (const e of (cla?.endpoints ?? []) as { lbEndpoints?: { endpoint?: { address?: { socketAddress?: { address: string; portValue: number } } } }[] }[]) {
    for (const l of e.lbEndpoints ?? []) {
      const a = l.endpoint?.address?.socketAddress;
      if (a) out.push(`${a.address}:${a.portValue}`);
    }
  }
  return out;
}

/** A 127.X.Y block whose first addresses are free on the service port (another run may hold one). */
async function freeBlock(count: number): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const block = `127.${10 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}`;
    const free = await Promise.all(Array.from({ length: count }, (_, n) => canListen(`${block}.${n + 1}`, 9080)));
    if (free.every(Boolean)) return block;
  }
  throw new InfraError('no free 127.X.Y.0/24 block for the proxyless workloads');
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}
