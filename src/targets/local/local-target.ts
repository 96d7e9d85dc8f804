import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { requestsByCode } from '../../metrics/promql.js';
import { Prometheus } from '../../metrics/prometheus.js';
import { REFERENCE } from '../../meshes/registry.js';
import type { CheckFeature, Support } from '../../meshes/types.js';
import type { K8sObject } from '../../kube/objects.js';
import { orUndo, type Undo } from '../../util/undo.js';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { BOOKINFO, LOAD_CLIENT, spiffeId } from '../../app/topology.js';
import { defaults, timeouts } from '../../config.js';
import { InfraError, UsageError } from '../../errors.js';
import type { Intent } from '../../intents/types.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { Endpoint, SidecarBoot, WorkloadBehaviour, WorkloadBoot } from '../../dataplane/config.js';
import { LocalCa } from '../../dataplane/pki.js';
import { ProcessGroup } from '../../process/process-group.js';
import type { Applied, ControlPlanePort, LoadOptions, Misbehaviour, ObservationPort, PolicyPort, ProbeResult, SidecarStats, Target, TrafficPort, WorkloadPort, Workload } from '../ports.js';
import type { LoadProfile } from '../../load/profile.js';
import type { LoadResult } from '../../load/result.js';
import { runEmbedded } from '../../load/embedded.js';
import { runK6 } from '../../load/k6.js';
import net from 'node:net';

const MAIN = fileURLToPath(new URL('../../dataplane/main.js', import.meta.url));

export interface Instance extends Workload {
  appPort?: number;
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
  sidecarPid: number;
}

/**
 * The local target: the Bookinfo-shaped app of echo workloads, each behind a reference sidecar in
 * its own process, plus the meshed load client; all in one process group. It plays the control
 * plane too: intents compile to per-sidecar configs (the reference mesh's render), pushed to every
 * sidecar and acknowledged. It has every port; Prometheus runs in its process group.
 */
export class LocalTarget implements Target, PolicyPort, WorkloadPort, TrafficPort, ObservationPort, ControlPlanePort {
  readonly label = REFERENCE.name;
  readonly mesh = { name: REFERENCE.name };
  readonly policy: PolicyPort = this;
  readonly workloads: WorkloadPort = this;
  readonly traffic: TrafficPort = this;
  readonly observations: ObservationPort = this;
  readonly controlPlane: ControlPlanePort = this;
  /** Each reference sidecar is one Node.js process: one event loop does its proxying. */
  readonly proxyWorkers = 1;
  private prom?: Promise<Prometheus>;
  readonly instances: Instance[] = [];
  /** While the control plane is stopped, no config is pushed; sidecars keep the last one. */
  private controlPlaneUp = true;
  private intents: Intent[] = [];
  private activeVersions = new Map<string, string[]>();
  private configVersion = 0;
  /** Convergence time of each config push, in milliseconds. */
  readonly convergenceMs: number[] = [];

  private constructor(readonly workDir: string, private readonly group: ProcessGroup) {}

  /**
   * Starts the app. With `warmPrometheus`, Prometheus starts beside the sidecars, so it is ready by the
   * time a scenario asks (it takes seconds); it learns the sidecars once they listen. A failure to
   * start it surfaces in the scenario that asks.
   */
  static async start(ledger: Ledger, log: (msg: string) => void = () => undefined, o: { warmPrometheus?: boolean } = {}): Promise<LocalTarget> {
    const workDir = mkdtempSync(join(tmpdir(), `meshcheck-${ledger.runId}-`));
    ledger.record({ op: 'directory', path: workDir, what: 'local target certificates and logs' });
    const group = await ProcessGroup.start(ledger, workDir);
    const t = new LocalTarget(workDir, group);
    if (o.warmPrometheus) {
      t.prom = Prometheus.start(t.scraped());
      t.prom.catch(() => undefined);
    }
    try {
      await t.boot(log);
    } catch (err) {
      await t.stop();
      throw err;
    }
    if (t.prom) Prometheus.writeTargets(t.scraped());
    return t;
  }

  private async boot(log: (msg: string) => void): Promise<void> {
    const ca = await LocalCa.create(defaults.trustDomain);
    const caFile = join(this.workDir, 'ca.pem');
    writeFileSync(caFile, ca.pem);
    const plan: { service: string; version: string; app: boolean }[] = [
      ...BOOKINFO.flatMap((s) => s.versions.map((version) => ({ service: s.name, version, app: true }))),
      { service: LOAD_CLIENT, version: 'v1', app: false },
    ];
    log(`starting ${plan.length} sidecars and ${plan.length - 1} workloads`);
    await Promise.all(plan.map(async ({ service, version, app }) => {
      const name = `${service}-${version}-0`;
      const identity = spiffeId(defaults.trustDomain, defaults.namespace, service);
      const pem = await ca.issue(identity);
      const certFile = join(this.workDir, `${name}.crt`);
      const keyFile = join(this.workDir, `${name}.key`);
      writeFileSync(certFile, pem.cert);
      writeFileSync(keyFile, pem.key, { mode: 0o600 });
      const upstream = BOOKINFO.find((s) => s.name === service)?.upstream;
      let appPort: number | undefined;
      if (app) {
        const boot: WorkloadBoot = { service, version, instance: name, port: 0, upstream };
        appPort = (await this.group.spawn(`${name}-app`, process.execPath, [MAIN, 'workload', JSON.stringify(boot)])).port as number;
      }
      const sboot: SidecarBoot = {
        service,
        version,
        instance: name,
        namespace: defaults.namespace,
        identity,
        inboundPort: 0,
        outboundPort: 0,
        adminPort: 0,
        appPort,
        certFile,
        keyFile,
        caFile,
      };
      const r = await this.group.spawn(`${name}-sidecar`, process.execPath, [...sidecarNodeArgs(), MAIN, 'sidecar', JSON.stringify(sboot)]);
      const inst: Instance = {
        service,
        version,
        name,
        identity,
        appPort,
        inboundPort: r.inboundPort as number,
        outboundPort: r.outboundPort as number,
        adminPort: r.adminPort as number,
        sidecarPid: r.pid,
      };
      if (appPort) await post(appPort, '/__meshcheck/wire', { outboundPort: inst.outboundPort });
      this.instances.push(inst);
    }));
    this.instances.sort((a, b) => a.name.localeCompare(b.name));
    await this.push();
  }

  /** The sidecar whose outbound listener a named caller (or the load client) sends through. */
  caller(service: string = LOAD_CLIENT): Instance {
    const inst = this.instances.find((i) => i.service === service);
    if (!inst) throw new UsageError(`unknown caller "${service}"; expected one of ${[...new Set(this.instances.map((i) => i.service))].join(', ')}`);
    return inst;
  }

  instancesOf(service: string): Instance[] {
    const versions = this.activeVersions.get(service);
    return this.instances.filter((i) => i.service === service && (!versions || versions.includes(i.version)));
  }

  endpoints(): Record<string, Endpoint[]> {
    const out: Record<string, Endpoint[]> = {};
    for (const s of BOOKINFO) {
      out[s.name] = this.instancesOf(s.name).map((i) => ({ service: i.service, version: i.version, instance: i.name, address: `127.0.0.1:${i.inboundPort}`, identity: i.identity }));
    }
    return out;
  }

  /** The reference sidecar implements every intent (docs/adr/0003). */
  supportAll(intents: readonly Intent[]): Support[] {
    return REFERENCE.supportAll(intents);
  }

  lacks(_feature: CheckFeature): string | undefined {
    return undefined;
  }

  render(): K8sObject[] {
    return [];
  }

  /** Applies intents on top of those in effect; the returned undo restores the previous set. */
  async apply(intents: readonly Intent[]): Promise<Applied> {
    const before = this.intents;
    this.intents = [...before, ...intents];
    const undo = async () => {
      this.intents = before;
      await this.push();
    };
    return { undo, convergenceMs: await orUndo(() => this.push(), undo), evidence: [] };
  }

  /** Restricts a service's endpoints to some versions (the versions "running"). */
  async runVersions(service: string, versions: string[]): Promise<Undo> {
    const known = this.instances.filter((i) => i.service === service).map((i) => i.version);
    const missing = versions.filter((v) => !known.includes(v));
    if (missing.length) throw new UsageError(`the local app has no version ${missing.join(', ')} of "${service}"; it runs ${known.join(', ')}`);
    const before = this.activeVersions.get(service);
    this.activeVersions.set(service, versions);
    const undo = async () => {
      if (before) this.activeVersions.set(service, before);
      else this.activeVersions.delete(service);
      await this.push();
    };
    await orUndo(() => this.push(), undo);
    return undo;
  }

  /** Makes workload instances misbehave (fail or be slow); the undo restores normal behaviour. */
  async setBehaviour(workloads: readonly Workload[], b: Misbehaviour): Promise<Undo> {
    const instances = workloads.map((w) => this.instance(w));
    const behaviour: WorkloadBehaviour = { ...(b.failStatus ? { failStatus: b.failStatus } : {}), ...(b.delayMs ? { delayMs: b.delayMs } : {}) };
    const undo = async () => {
      await Promise.all(instances.map((i) => post(i.appPort!, '/__meshcheck/behaviour', {})));
    };
    await orUndo(() => Promise.all(instances.map((i) => post(i.appPort!, '/__meshcheck/behaviour', behaviour))), undo);
    return undo;
  }

  async failedCount(w: Workload): Promise<number> {
    const b = (await get(this.instance(w).appPort!, '/__meshcheck/behaviour')) as { failed?: number };
    return b.failed ?? 0;
  }

  private instance(w: Workload): Instance {
    const i = this.instances.find((x) => x.name === w.name);
    if (!i?.appPort) throw new InfraError(`no instance ${w.name} with a workload is running`);
    return i;
  }

  /** Through the caller's sidecar (the meshed load client by default). */
  load(p: LoadProfile, o: LoadOptions): Promise<LoadResult> {
    return this.run(p, this.caller(p.caller).outboundPort, o);
  }

  /** Straight to the instance's workload, no sidecar. */
  loadDirect(p: LoadProfile, w: Workload, o: LoadOptions): Promise<LoadResult> {
    return this.run(p, this.instance(w).appPort!, o);
  }

  private run(p: LoadProfile, port: number, o: LoadOptions): Promise<LoadResult> {
    // k6 runs its whole budget (it cannot be stopped early by meshcheck's sequential plan).
    return o.engine === 'k6'
      ? runK6(p, { via: `127.0.0.1:${port}`, processes: k6Processes(p) })
      : runEmbedded(p, { via: `127.0.0.1:${port}`, shouldStop: o.shouldStop, onProgress: o.onProgress });
  }

  callerInstance(caller?: string): string {
    return this.caller(caller).name;
  }

  /** A plaintext client outside the mesh connects straight to each instance's sidecar. */
  async plaintextProbe(service: string): Promise<ProbeResult> {
    const insts = this.instancesOf(service);
    let rejected = 0;
    const detail: string[] = [];
    for (const i of insts) {
      const r = await plaintextGet(i.inboundPort, service);
      if (r.status === undefined || r.status === 403) rejected++;
      detail.push(`${i.name}: ${r.status === undefined ? `no HTTP response (${r.error})` : `HTTP ${r.status}`}`);
    }
    return { attempts: insts.length, rejected, detail };
  }

  /** The reference control plane is meshcheck's own config push: stopped, no sidecar gets a new config. */
  async stopControlPlane(): Promise<Undo> {
    this.controlPlaneUp = false;
    return async () => {
      this.controlPlaneUp = true;
      await this.push();
    };
  }

  /**
   * A restart of the reference control plane: a pause, then every sidecar is sent its whole config
   * again as a new version (each rebuilds its routes and clusters under the load).
   */
  async restartControlPlane(): Promise<{ downMs: number; readyMs: number }> {
    const t0 = performance.now();
    this.controlPlaneUp = false;
    await new Promise((r) => setTimeout(r, RESTART_PAUSE_MS));
    const down = performance.now();
    this.controlPlaneUp = true;
    await this.push();
    return { downMs: Number((down - t0).toFixed(1)), readyMs: Number((performance.now() - down).toFixed(1)) };
  }

  describe(): Record<string, unknown> {
    return { mesh: REFERENCE.name, convergenceMs: this.convergenceMs.map((x) => Number(x.toFixed(2))) };
  }

  /** Pushes the current config to every sidecar and waits for each to acknowledge it; returns ms taken. */
  private async push(): Promise<number> {
    if (!this.controlPlaneUp) throw new InfraError('the mesh control plane is stopped: a change cannot reach the sidecars until it runs again');
    const version = ++this.configVersion;
    const endpoints = this.endpoints();
    const start = performance.now();
    await Promise.all(this.instances.map(async (i) => {
      const cfg = REFERENCE.compile(version, i.service, this.intents, endpoints);
      const ack = (await post(i.adminPort, '/config', cfg, timeouts.convergenceMs)) as { ack?: number };
      if (ack.ack !== version) throw new InfraError(`sidecar ${i.name} acknowledged config ${ack.ack}, expected ${version}`);
    }));
    const ms = performance.now() - start;
    this.convergenceMs.push(ms);
    return ms;
  }

  requestsByCode(service: string): { query: string; codeLabel: string } {
    return { query: requestsByCode(service, REFERENCE.requests), codeLabel: REFERENCE.requests.codeLabel };
  }

  /** meshcheck's own Prometheus in the target's process group, scraping every sidecar twice a second. */
  prometheus(): Promise<Prometheus> {
    this.prom ??= Prometheus.start(this.scraped());
    return this.prom;
  }

  /** What Prometheus scrapes: every sidecar's admin listener; it runs with the target's processes. */
  private scraped() {
    return { dir: this.workDir, targets: () => this.instances.map((i) => `127.0.0.1:${i.adminPort}`), spawn: (name: string, command: string, args: string[]) => this.group.spawn(name, command, args, false) };
  }

  async sidecarStats(): Promise<SidecarStats[]> {
    return Promise.all(this.instances.map(async (i) => {
      const s = (await get(i.adminPort, '/stats')) as { pid: number; cpuSeconds: number; rssBytes: number };
      return { instance: i.name, service: i.service, pid: s.pid, cpuSeconds: s.cpuSeconds, rssBytes: s.rssBytes };
    }));
  }

  /** Process groups whose CPU is meshcheck's own (load health: ours vs the rest of the machine). */
  ownProcessGroups(): number[] {
    return [this.group.pgid];
  }

  async stop(): Promise<void> {
    await this.group.stop();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/**
 * Extra Node.js flags for every reference sidecar, from $MESHCHECK_SIDECAR_NODE_ARGS (space-separated),
 * e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them (Node refuses --cpu-prof in NODE_OPTIONS).
 */
/** How long a reference control-plane restart leaves the sidecars without a control plane. */
const RESTART_PAUSE_MS = 500;

function plaintextGet(port: number, host: string): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.setTimeout(3000, () => s.destroy(new Error('timeout')));
    s.on('connect', () => s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    s.on('data', (d) => (buf += d.toString('latin1')));
    s.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    s.on('close', () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      resolve(m ? { status: Number(m[1]) } : { error: 'connection closed without a response' });
    });
  });
}

/** k6 processes for a profile: $MESHCHECK_K6_PROCESSES, else one per 1000 rps (at most the cores). */
function k6Processes(p: LoadProfile): number {
  const fixed = Number(process.env.MESHCHECK_K6_PROCESSES);
  if (fixed >= 1) return Math.floor(fixed);
  return Math.max(1, Math.min(availableParallelism(), Math.ceil((p.rps ?? 0) / 1000)));
}

export function sidecarNodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.MESHCHECK_SIDECAR_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

async function post(port: number, path: string, body: unknown, timeoutMs = 5000): Promise<unknown> {
  const r = await request(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.body.text();
  if (r.statusCode >= 300) throw new InfraError(`POST ${path} on 127.0.0.1:${port} answered ${r.statusCode}: ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

async function get(port: number, path: string): Promise<unknown> {
  const r = await request(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return r.body.json();
}
