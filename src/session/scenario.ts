import net from 'node:net';
import { describeError, InfraError, type SourceRef } from '../errors.js';
import { validateIntent } from '../intents/validate.js';
import type { Intent } from '../intents/types.js';
import type { Undo } from '../targets/local/local-target.js';
import { runEmbedded } from '../load/embedded.js';
import { runK6 } from '../load/k6.js';
import { availableParallelism } from 'node:os';
import { profile, type LoadProfile, type Sample } from '../load/profile.js';
import type { LoadResult } from '../load/result.js';
import { SequentialPlan, type SampleCheck } from '../verdicts/sample-checks.js';
import type { Verdict } from '../verdicts/outcome.js';
import type { RunContext } from './run-context.js';
import { Efficacy } from './efficacy.js';
import { ProgressLine } from './progress.js';
import { defaults } from '../config.js';
import { pool, summarizeOverhead, type OverheadRounds, type OverheadSummary } from '../overhead/overhead.js';
import { observeLoad } from '../load/health.js';
import { guardVerdict } from '../verdicts/infrastructure.js';

export interface LoadRun {
  result: LoadResult;
  plan: SequentialPlan;
}

/** One scenario's state and actions: the domain side of the cucumber World. */
export class ScenarioSession {
  private readonly undos: { what: string; undo: Undo }[] = [];
  readonly verdicts: Verdict[] = [];
  readonly loads: Record<string, unknown>[] = [];
  readonly convergenceMs: number[] = [];
  readonly efficacy = new Efficacy();
  lastLoad?: LoadRun;
  /** When Prometheus had scraped every sidecar before this scenario's load. */
  promStartMs?: number;
  probe?: { attempts: number; rejected: number; detail: string[] };
  overhead?: OverheadSummary;
  /** The rounds of the overhead run, for checks at any percentile. */
  overheadRounds?: OverheadRounds;

  constructor(readonly run: RunContext, readonly name: string) {}

  get target() {
    return this.run.target;
  }

  /** Starts Prometheus if needed and marks the point after which this scenario's requests count. */
  async preparePrometheus(): Promise<void> {
    const prom = await this.run.prometheus();
    const now = Date.now();
    await prom.scrapedAfter(now);
    this.promStartMs = Date.now();
  }

  private remember(what: string, undo: Undo): void {
    this.undos.push({ what, undo });
  }

  async applyIntent(intent: Intent, ref?: SourceRef): Promise<number> {
    validateIntent(intent, ref);
    const { undo, convergenceMs } = await this.target.apply([intent]);
    this.remember(`${intent.kind} on ${'service' in intent ? intent.service : 'namespace'}`, undo);
    this.convergenceMs.push(convergenceMs);
    this.efficacy.expectIntent(intent);
    return convergenceMs;
  }

  async runVersions(service: string, versions: string[]): Promise<void> {
    this.remember(`versions of ${service}`, await this.target.runVersions(service, versions));
  }

  async failOneInstance(service: string, status: number): Promise<void> {
    const inst = this.target.instancesOf(service)[0];
    if (!inst) throw new InfraError(`no instance of "${service}" is running`);
    this.remember(`failing instance ${inst.name}`, await this.target.setBehaviour([inst], { failStatus: status }));
    this.efficacy.expectWorkloadFault(inst, `instance ${inst.name} answers ${status}`);
  }

  async slowService(service: string, delayMs: number): Promise<void> {
    const insts = this.target.instancesOf(service);
    this.remember(`slow ${service}`, await this.target.setBehaviour(insts, { delayMs }));
  }

  /** Runs the engine with the live progress line and observes its health; `label` undefined = a silent warm-up. */
  private load(p: LoadProfile, via: number, label?: string, shouldStop?: (s: readonly Sample[]) => boolean, announceHealth = true): Promise<LoadResult> {
    const progress = new ProgressLine(this.run.settings.progress && label !== undefined, `${this.name}: ${label}`);
    const onProgress = (x: { sent: number; completed: number; errors: number; rps: number }) => progress.update(x);
    // k6 runs its whole budget (it cannot be stopped early by meshcheck's sequential plan).
    const run = () => this.run.settings.engine === 'k6'
      ? runK6(p, { via: `127.0.0.1:${via}`, processes: k6Processes(p) })
      : runEmbedded(p, { via: `127.0.0.1:${via}`, shouldStop, onProgress });
    return observeLoad(this.target.processGroups(), run).then((r) => {
      progress.done(announceHealth ? r.health : undefined);
      return r;
    }, (err: unknown) => {
      progress.done();
      throw err;
    });
  }

  /**
   * The verdict of a sample check on the last load: the sequential plan's decision, and never a
   * FAILED that an unhealthy load could have caused (guardVerdict).
   */
  judge(check: SampleCheck): Verdict {
    const samples = this.samples();
    const { plan, result } = this.lastLoad!;
    return guardVerdict(plan.verdict(check, samples), check, [result.health], samples);
  }

  /** Sends load; the checks the scenario states next decide when it may stop early. */
  async sendLoad(p: LoadProfile, upcoming: SampleCheck[]): Promise<LoadRun> {
    const plan = new SequentialPlan(upcoming, p.requests);
    const via = this.target.caller(p.caller).outboundPort;
    const result = await this.load(p, via, `${p.requests} -> ${p.service}`, upcoming.length ? (s) => plan.update(s) : undefined);
    this.loads.push(this.run.addLoad(this.name, result));
    this.lastLoad = { result, plan };
    return this.lastLoad;
  }

  /** A plaintext client outside the mesh connects straight to each instance's sidecar. */
  async plaintextProbe(service: string): Promise<void> {
    const insts = this.target.instancesOf(service);
    let rejected = 0;
    const detail: string[] = [];
    for (const i of insts) {
      const r = await plaintextGet(i.inboundPort, service);
      if (r.status === undefined || r.status === 403) rejected++;
      detail.push(`${i.name}: ${r.status === undefined ? `no HTTP response (${r.error})` : `HTTP ${r.status}`}`);
    }
    this.probe = { attempts: insts.length, rejected, detail };
  }

  /**
   * Same rate and shape with and without the mesh: straight to the workload (baseline) and through
   * two sidecars, in alternating rounds after a trimmed warm-up each way; the rounds are pooled.
   */
  async overheadRun(service: string, rps: number, durationMs: number): Promise<OverheadSummary> {
    const inst = this.target.instancesOf(service)[0];
    if (!inst?.appPort) throw new InfraError(`no instance of "${service}" with a workload is running`);
    const rounds = Math.max(2, Math.floor(Number(process.env.MESHCHECK_OVERHEAD_ROUNDS) || defaults.overheadRounds));
    const perRound = Math.max(1, Math.round((rps * durationMs) / 1000 / rounds));
    const base = profile({ service, rps, requests: perRound });
    const meshed = profile({ service, rps, requests: perRound, headers: { 'x-meshcheck-overhead': '1' } });
    const client = this.target.caller();
    // Pin mesh traffic to the instance the baseline calls, so only the sidecars differ.
    const { undo } = await this.target.apply([{ kind: 'HeaderRoute', service, header: 'x-meshcheck-overhead', value: '1', version: inst.version }]);
    this.remember('overhead pinning route', undo);
    // Warm-up is trimmed (connections, TLS sessions, JIT), as the vendors' benchmarks do.
    const warmupRequests = Math.round((rps * defaults.overheadWarmupMs) / 1000);
    await this.load({ ...base, requests: warmupRequests }, inst.appPort);
    await this.load({ ...meshed, requests: warmupRequests }, client.outboundPort);
    const onPath = new Set([client.name, inst.name]);
    const out: OverheadRounds = { service, rps, warmupRequests, baseline: [], mesh: [], usage: [] };
    const runBaseline = async (i: number) => out.baseline.push(await this.load(base, inst.appPort!, `baseline ${i + 1}/${rounds}`, undefined, false));
    const runMesh = async (i: number) => {
      const before = await this.target.sidecarStats();
      const r = await this.load(meshed, client.outboundPort, `mesh ${i + 1}/${rounds}`, undefined, false);
      const after = await this.target.sidecarStats();
      out.mesh.push(r);
      out.usage.push(after.filter((a) => onPath.has(a.instance)).map((a) => ({
        instance: a.instance, cpuSeconds: a.cpuSeconds - before.find((b) => b.instance === a.instance)!.cpuSeconds, rssBytes: a.rssBytes, requests: r.samples.length,
      })));
    };
    for (let i = 0; i < rounds; i++) {
      // Alternate the order, so a drift of the machine does not fall on one side only.
      if (i % 2 === 0) {
        await runBaseline(i);
        await runMesh(i);
      } else {
        await runMesh(i);
        await runBaseline(i);
      }
    }
    this.overheadRounds = out;
    const sick = [...out.baseline, ...out.mesh].filter((r) => r.health && !r.health.healthy);
    if (this.run.settings.progress && sick.length) process.stderr.write(`  ${this.name}: ${sick.length} of ${2 * rounds} rounds not healthy, e.g. ${sick[0]!.health!.reasons.join('; ')}\n`);
    this.loads.push(this.run.addLoad(`${this.name} (baseline)`, pool(out.baseline)), this.run.addLoad(`${this.name} (mesh)`, pool(out.mesh)));
    this.overhead = summarizeOverhead(this.name, this.run.settings.mesh, out);
    this.run.overhead.push(this.overhead);
    return this.overhead;
  }

  /** Samples of the last load, or an error naming the missing When step. */
  samples(): readonly Sample[] {
    if (!this.lastLoad) throw new InfraError('no load was sent before this check; add a "When ... requests are sent ..." step');
    return this.lastLoad.result.samples;
  }

  async record(v: Verdict): Promise<Verdict> {
    const checked = v.outcome === 'PASSED' ? await this.efficacy.confirm(v, this.lastLoad?.result.samples ?? [], this.lastLoad?.result.profile.service) : v;
    this.verdicts.push(checked);
    return checked;
  }

  /** Undoes every mutation of the scenario, newest first; keeps going past failures and reports them. */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    for (const { what, undo } of this.undos.reverse()) {
      try {
        await undo();
      } catch (err) {
        problems.push(`undoing ${what}: ${describeError(err)}`);
      }
    }
    this.undos.length = 0;
    return problems;
  }
}

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
