import { describeError, InfraError, type SourceRef } from '../errors.js';
import { validateIntent } from '../intents/validate.js';
import type { Intent } from '../intents/types.js';
import type { Evidence, Target, Undo, Workload } from '../targets/target.js';
import { profile, type LoadProfile, type Sample } from '../load/profile.js';
import { describeIntent } from '../intents/describe.js';
import { describeSupport, scenarioLevel } from '../meshes/support.js';
import { toYaml } from '../util/yaml.js';
import { scenarioIntents, unsupportedOf, type PickleStepText } from './capability.js';
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

  /** The control plane's restart during the last load, when a step asked for one. */
  restart?: { atMs: number; downMs: number; readyMs: number };

  constructor(readonly run: RunContext, readonly name: string) {}

  get target(): Target {
    return this.run.target;
  }

  /**
   * The capability check, before anything is applied: the scenario's intents (read ahead from its
   * steps) on this target's data plane. Returns the reasons when one is unsupported (NOT_SUPPORTED),
   * and the evidence and labels for the report either way.
   */
  async prepare(steps: PickleStepText[]): Promise<{ notSupported?: string[]; labels: [string, string][]; evidence: Evidence[] }> {
    const intents = scenarioIntents(steps);
    const supports = this.target.supportAll(intents);
    const m = this.target.mesh;
    const on = `${m.name}${m.version ? ` ${m.version}` : ''}${m.dataPlane ? ` (${m.dataPlane})` : ''}`;
    const missing = unsupportedOf(intents, supports);
    if (missing.length) {
      return {
        notSupported: missing.map((x) => x.text),
        labels: [['meshcheck_outcome', 'NOT_SUPPORTED']],
        evidence: [{ name: 'not supported by mesh', contentType: 'application/json', body: JSON.stringify({ mesh: m.name, version: m.version, dataPlane: m.dataPlane, unsupported: missing.map((x) => ({ intent: x.intent, reason: (x.support as { reason: string }).reason })) }, null, 2) }],
      };
    }
    // What the mesh is given: each intent's level (emulated is labelled as such) and the exact manifests.
    const objects = this.target.render(intents);
    const evidence: Evidence[] = [{ name: `capability on ${on}`, contentType: 'text/plain', body: intents.map((i, n) => `${describeIntent(i)}: ${describeSupport(supports[n]!)}`).join('\n') || 'no intents: the scenario needs only the data plane' }];
    if (objects.length) evidence.push({ name: `manifests (${on})`, contentType: 'application/yaml', body: toYaml(objects) });
    return { labels: [['meshcheck_level', scenarioLevel(supports)]], evidence };
  }

  /** Readies the target for a runnable scenario (the kube target deploys its workload). */
  async start(): Promise<void> {
    await this.target.beforeScenario?.();
  }

  /** Why a step needing a capability cannot be checked on this target (a NOT_SUPPORTED verdict), if so. */
  lacks(feature: Parameters<Target['lacks']>[0]): string | undefined {
    return this.target.lacks(feature);
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

  /** Applies one intent; returns the time until the data plane had it and the target's evidence. */
  async applyIntent(intent: Intent, ref?: SourceRef): Promise<{ convergenceMs: number; evidence: Evidence[] }> {
    validateIntent(intent, ref);
    const { undo, convergenceMs, evidence } = await this.target.apply([intent]);
    this.remember(`${intent.kind} on ${'service' in intent ? intent.service : 'namespace'}`, undo);
    this.convergenceMs.push(convergenceMs);
    this.efficacy.expectIntent(intent);
    return { convergenceMs, evidence };
  }

  /** Stops the mesh control plane for the rest of the scenario (started again at its end). */
  async stopControlPlane(): Promise<void> {
    this.remember('the stopped control plane', await this.target.stopControlPlane());
  }

  async runVersions(service: string, versions: string[]): Promise<void> {
    this.remember(`versions of ${service}`, await this.target.runVersions(service, versions));
  }

  async failOneInstance(service: string, status: number): Promise<void> {
    const inst = this.target.instancesOf(service)[0];
    if (!inst) throw new InfraError(`no instance of "${service}" is running`);
    this.remember(`failing instance ${inst.name}`, await this.target.setBehaviour([inst], { failStatus: status }));
    this.efficacy.expectWorkloadFault(() => this.target.failedCount(inst), `instance ${inst.name} answers ${status}`);
  }

  async slowService(service: string, delayMs: number): Promise<void> {
    const insts = this.target.instancesOf(service);
    this.remember(`slow ${service}`, await this.target.setBehaviour(insts, { delayMs }));
  }

  /**
   * Runs a load through the mesh (or straight to `direct`, outside it) with the live progress line,
   * and observes its health; `label` undefined = a silent warm-up.
   */
  private load(p: LoadProfile, direct?: Workload, label?: string, shouldStop?: (s: readonly Sample[]) => boolean, announceHealth = true): Promise<LoadResult> {
    const progress = new ProgressLine(this.run.settings.progress && label !== undefined, `${this.name}: ${label}`);
    const onProgress = (x: { sent: number; completed: number; errors: number; rps: number }) => progress.update(x);
    const o = { engine: this.run.settings.engine, shouldStop, onProgress };
    const run = () => (direct ? this.target.loadDirect(p, direct, o) : this.target.load(p, o));
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
    const result = await this.load(p, undefined, `${p.requests} -> ${p.service}`, upcoming.length ? (s) => plan.update(s) : undefined);
    this.loads.push(this.run.addLoad(this.name, result));
    this.lastLoad = { result, plan };
    return this.lastLoad;
  }

  /**
   * Sends the whole load (no early stop: the restart must fall inside it) and restarts the mesh control
   * plane a quarter of the way through; the checks that follow judge every response, restart included.
   */
  async sendLoadDuringRestart(p: LoadProfile, upcoming: SampleCheck[]): Promise<LoadRun> {
    const plan = new SequentialPlan(upcoming, p.requests);
    const planned = p.rps ? (p.requests * 1000) / p.rps : 0;
    const t0 = performance.now();
    const restart = (async () => {
      await new Promise((r) => setTimeout(r, planned / 4));
      const atMs = performance.now() - t0;
      return { atMs: Number(atMs.toFixed(1)), ...(await this.target.restartControlPlane()) };
    })();
    // The restart runs beside the load; an error in it is the scenario's, after the load has ended.
    restart.catch(() => undefined);
    const result = await this.load(p, undefined, `${p.requests} -> ${p.service} (control plane restarts)`);
    this.restart = await restart;
    if (this.restart.atMs + this.restart.downMs > result.durationMs) throw new InfraError(`the control plane restart (at ${this.restart.atMs}ms, down ${this.restart.downMs}ms) did not fall inside the load (${result.durationMs.toFixed(0)}ms); send more requests`);
    this.loads.push({ ...this.run.addLoad(this.name, result), controlPlaneRestart: this.restart });
    this.lastLoad = { result, plan };
    return this.lastLoad;
  }

  /** A plaintext client outside the mesh calls each instance of a service directly. */
  async plaintextProbe(service: string): Promise<void> {
    this.probe = await this.target.plaintextProbe(service);
  }

  /**
   * Same rate and shape with and without the mesh: straight to the workload (baseline) and through
   * two sidecars, in alternating rounds after a trimmed warm-up each way; the rounds are pooled.
   */
  async overheadRun(service: string, rps: number, durationMs: number): Promise<OverheadSummary> {
    const inst = this.target.instancesOf(service)[0];
    if (!inst) throw new InfraError(`no instance of "${service}" is running`);
    const rounds = Math.max(2, Math.floor(Number(process.env.MESHCHECK_OVERHEAD_ROUNDS) || defaults.overheadRounds));
    const perRound = Math.max(1, Math.round((rps * durationMs) / 1000 / rounds));
    const base = profile({ service, rps, requests: perRound });
    const meshed = profile({ service, rps, requests: perRound, headers: { 'x-meshcheck-overhead': '1' } });
    // Pin mesh traffic to the instance the baseline calls, so only the sidecars differ.
    const { undo } = await this.target.apply([{ kind: 'HeaderRoute', service, header: 'x-meshcheck-overhead', value: '1', version: inst.version }]);
    this.remember('overhead pinning route', undo);
    // Warm-up is trimmed (connections, TLS sessions, JIT), as the vendors' benchmarks do.
    const warmupRequests = Math.round((rps * defaults.overheadWarmupMs) / 1000);
    await this.load({ ...base, requests: warmupRequests }, inst);
    await this.load({ ...meshed, requests: warmupRequests });
    const onPath = new Set([this.target.callerInstance(), inst.name].filter((x) => x !== undefined));
    const out: OverheadRounds = { service, rps, warmupRequests, baseline: [], mesh: [], usage: [] };
    const runBaseline = async (i: number) => out.baseline.push(await this.load(base, inst, `baseline ${i + 1}/${rounds}`, undefined, false));
    const runMesh = async (i: number) => {
      const before = await this.target.sidecarStats();
      const r = await this.load(meshed, undefined, `mesh ${i + 1}/${rounds}`, undefined, false);
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
    const m = this.target.mesh;
    this.overhead = summarizeOverhead(this.name, m.dataPlane ? `${m.name} (${m.dataPlane})` : this.run.settings.mesh, out, undefined, this.target.dataPath);
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
