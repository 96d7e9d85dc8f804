import { describeError, InfraError, type SourceRef } from '../errors.js';
import type { Evidence } from '../evidence.js';
import { validateIntent } from '../intents/validate.js';
import type { Intent } from '../intents/types.js';
import { describeIntent } from '../intents/describe.js';
import type { CheckFeature } from '../meshes/types.js';
import { describeSupport, scenarioLevel } from '../meshes/support.js';
import type { Target, Workload } from '../targets/ports.js';
import type { LoadProfile, Sample } from '../load/profile.js';
import type { LoadResult } from '../load/result.js';
import { HTTP_READING, type SampleReading } from '../load/reading.js';
import { observeLoad } from '../load/observe.js';
import { SequentialPlan, type SampleCheck } from '../verdicts/sample-checks.js';
import type { Verdict } from '../verdicts/outcome.js';
import { guardVerdict } from '../verdicts/infrastructure.js';
import type { MeshCounts, Observed } from '../verdicts/observed-checks.js';
import type { OverheadRounds, OverheadSummary } from '../overhead/overhead.js';
import type { Undo } from '../util/undo.js';
import { toYaml } from '../util/yaml.js';
import { unsupportedOf } from './capability.js';
import { Efficacy } from './efficacy.js';
import { ProgressLine } from './progress.js';
import { loadEvidence } from './evidence.js';
import { measureOverhead, type OverheadShape } from './overhead-run.js';
import type { Run } from './run.js';
import { decidable } from '../verdicts/power.js';
import { rollUp, type StepsResult } from './roll-up.js';
import { stepEnd } from '../verdicts/outcome.js';

/** How a load runs: straight to an instance (outside the mesh), its progress label (none = a silent warm-up), the plan its looks follow. */
export interface LoadHow {
  direct?: Workload;
  label?: string;
  /** The claims' sequential plan: the load stops once they are decided, and the progress line shows its looks. */
  plan?: SequentialPlan;
  announceHealth?: boolean;
  /** The control plane restarts during this load (LoadOptions.controlPlaneRestarts). */
  controlPlaneRestarts?: boolean;
}

export interface LoadRun {
  result: LoadResult;
  plan: SequentialPlan;
}

/** What a scenario's capability check found, before anything is applied. */
export interface Prepared {
  /** NOT_SUPPORTED: each intent the data plane cannot express, and why. */
  notSupported?: string[];
  /** Report labels (name, value). */
  labels: [string, string][];
  evidence: Evidence[];
}

/** One scenario's state and actions: what the steps ask for, in the domain's terms. */
export class ScenarioSession implements Observed {
  private readonly undos: { what: string; undo: Undo }[] = [];
  readonly verdicts: Verdict[] = [];
  readonly loads: Record<string, unknown>[] = [];
  readonly convergenceMs: number[] = [];
  /** How the target's responses are read (HTTP, or the gRPC code a caller gets). */
  readonly reading: SampleReading;
  readonly efficacy: Efficacy;
  lastLoad?: LoadRun;
  /** When Prometheus had scraped every sidecar before this scenario's load. */
  promStartMs?: number;
  probe?: { attempts: number; rejected: number; detail: string[] };
  overhead?: OverheadSummary;
  /** The rounds of the overhead run, for checks at any percentile. */
  overheadRounds?: OverheadRounds;
  /** The control plane's restart during the last load, when a step asked for one. */
  restart?: { atMs: number; downMs: number; readyMs: number };
  /** Set by the capability check when the data plane cannot express one of its intents: the reasons. */
  notSupported?: string[];

  constructor(readonly run: Run, readonly name: string) {
    this.reading = run.target.reading ?? HTTP_READING;
    this.efficacy = new Efficacy(this.reading);
  }

  get target(): Target {
    return this.run.target;
  }

  /** How the data plane is named in evidence: the mesh, its version and its data plane ("proxyless gRPC"). */
  private on(): string {
    const m = this.target.mesh;
    return `${m.name}${m.version ? ` ${m.version}` : ''}${m.dataPlane ? ` (${m.dataPlane})` : ''}`;
  }

  /**
   * The capability check, before anything is applied: the scenario's intents (read ahead from its
   * steps) on this target's data plane. Gives the reasons when one is unsupported (NOT_SUPPORTED),
   * and the evidence and labels for the report either way.
   */
  prepare(intents: readonly Intent[]): Prepared {
    const supports = this.target.policy.supportAll(intents);
    const m = this.target.mesh;
    const missing = unsupportedOf(intents, supports);
    if (missing.length) {
      this.notSupported = missing.map((x) => x.text);
      return {
        notSupported: this.notSupported,
        labels: [['meshcheck_outcome', 'NOT_SUPPORTED']],
        evidence: [{ name: 'not supported by mesh', contentType: 'application/json', body: JSON.stringify({ mesh: m.name, version: m.version, dataPlane: m.dataPlane, unsupported: missing.map((x) => ({ intent: x.intent, reason: (x.support as { reason: string }).reason })) }, null, 2) }],
      };
    }
    // What the mesh is given: each intent's level (emulated is labelled as such) and the exact manifests.
    const objects = this.target.policy.render(intents);
    const evidence: Evidence[] = [{ name: `capability on ${this.on()}`, contentType: 'text/plain', body: intents.map((i, n) => `${describeIntent(i)}: ${describeSupport(supports[n]!)}`).join('\n') || 'no intents: the scenario needs only the data plane' }];
    if (objects.length) evidence.push({ name: `manifests (${this.on()})`, contentType: 'application/yaml', body: toYaml(objects) });
    return { labels: [['meshcheck_level', scenarioLevel(supports)]], evidence };
  }

  /**
   * Readies the target for a runnable scenario (the kube target deploys its workload); when a step
   * queries the mesh's metrics, Prometheus first, and the point after which this scenario's requests count.
   */
  async start(needs: readonly CheckFeature[]): Promise<void> {
    await this.target.beforeScenario?.();
    if (needs.includes('mesh-metrics') && !this.lacks('mesh-metrics')) {
      const prom = await this.run.prometheus();
      await prom.scrapedAfter(Date.now());
      this.promStartMs = Date.now();
    }
  }

  /** Why a step needing a capability cannot be checked on this target (a NOT_SUPPORTED verdict), if so. */
  lacks(feature: CheckFeature): string | undefined {
    return this.target.lacks(feature);
  }

  get lastHealth() {
    return this.lastLoad?.result.health;
  }

  private remember(what: string, undo: Undo): void {
    this.undos.push({ what, undo });
  }

  /** Applies one intent; its evidence: the intent, the time until the data plane had it, and the target's own. */
  async applyIntent(intent: Intent, ref?: SourceRef): Promise<Evidence[]> {
    validateIntent(intent, ref);
    const { undo, convergenceMs, evidence } = await this.target.policy.apply([intent]);
    this.remember(`${intent.kind} on ${'service' in intent ? intent.service : 'namespace'}`, undo);
    this.convergenceMs.push(convergenceMs);
    this.efficacy.expectIntent(intent);
    return [{ name: `intent ${intent.kind}`, contentType: 'application/json', body: JSON.stringify({ intent, convergenceMs: Number(convergenceMs.toFixed(2)) }, null, 2) }, ...evidence];
  }

  /** Stops the mesh control plane for the rest of the scenario (started again at its end). */
  async stopControlPlane(): Promise<void> {
    this.remember('the stopped control plane', await this.target.controlPlane.stopControlPlane());
  }

  async runVersions(service: string, versions: string[]): Promise<void> {
    this.remember(`versions of ${service}`, await this.target.workloads.runVersions(service, versions));
  }

  async failOneInstance(service: string, status: number): Promise<void> {
    const w = this.target.workloads;
    const inst = w.instancesOf(service)[0];
    if (!inst) throw new InfraError(`no instance of "${service}" is running`);
    this.remember(`failing instance ${inst.name}`, await w.setBehaviour([inst], { failStatus: status }));
    this.efficacy.expectWorkloadFault(() => w.failedCount(inst), `instance ${inst.name} answers ${status}`);
  }

  async slowService(service: string, delayMs: number): Promise<void> {
    const w = this.target.workloads;
    this.remember(`slow ${service}`, await w.setBehaviour(w.instancesOf(service), { delayMs }));
  }

  /**
   * Runs a load through the mesh (or straight to `direct`, outside it) with the live progress line,
   * and observes its health; `label` undefined = a silent warm-up.
   */
  load(p: LoadProfile, how: LoadHow = {}): Promise<LoadResult> {
    const { direct, label, plan, announceHealth = true, controlPlaneRestarts } = how;
    const progress = new ProgressLine(this.run.settings.progress && label !== undefined, `${this.name}: ${label}`, plan && (() => plan.looksUsed));
    const onProgress = (x: { sent: number; completed: number; errors: number; rps: number }) => progress.update(x);
    const shouldStop = plan?.checks.length ? (s: readonly Sample[]) => plan.update(s) : undefined;
    const o = { engine: this.run.settings.engine, shouldStop, onProgress, ...(controlPlaneRestarts ? { controlPlaneRestarts } : {}) };
    const traffic = this.target.traffic;
    const run = () => (direct ? traffic.loadDirect(p, direct, o) : traffic.load(p, o));
    return observeLoad(traffic.ownProcessGroups(), run).then((r) => {
      progress.done(announceHealth ? r.health : undefined);
      return r;
    }, (err: unknown) => {
      progress.done();
      throw err;
    });
  }

  /**
   * Before a load: a warning (not an error) for each claim its budget cannot decide even when the
   * truth is ideal, naming the budget that would (verdicts/power.ts).
   */
  private warnUndecidable(p: LoadProfile, checks: readonly SampleCheck[]): void {
    for (const c of checks) {
      const w = decidable(c.spec, p.requests).warning;
      if (w) this.run.log(`warning: ${this.name}: "${c.claim}": ${w.text}`);
    }
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

  /** Sends load; the checks the scenario states next decide when it may stop early. Its evidence: the summary and a latency chart. */
  async sendLoad(p: LoadProfile, upcoming: SampleCheck[]): Promise<Evidence[]> {
    const plan = new SequentialPlan(upcoming, p.requests);
    this.warnUndecidable(p, upcoming);
    const result = await this.load(p, { label: `${p.requests} -> ${p.service}`, plan });
    this.loads.push(this.run.addLoad(this.name, result));
    this.lastLoad = { result, plan };
    return this.loadEvidence(1);
  }

  /**
   * Sends the whole load (no early stop: the restart must fall inside it) and restarts the mesh control
   * plane a quarter of the way through; the checks that follow judge every response, restart included.
   */
  async sendLoadDuringRestart(p: LoadProfile, upcoming: SampleCheck[]): Promise<Evidence[]> {
    const plan = new SequentialPlan(upcoming, p.requests);
    const planned = p.rps ? (p.requests * 1000) / p.rps : 0;
    const t0 = performance.now();
    const restart = (async () => {
      await new Promise((r) => setTimeout(r, planned / 4));
      const atMs = performance.now() - t0;
      return { atMs: Number(atMs.toFixed(1)), ...(await this.target.controlPlane.restartControlPlane()) };
    })();
    // The restart runs beside the load; an error in it is the scenario's, after the load has ended.
    restart.catch(() => undefined);
    this.warnUndecidable(p, upcoming);
    const result = await this.load(p, { label: `${p.requests} -> ${p.service} (control plane restarts)`, controlPlaneRestarts: true });
    this.restart = await restart;
    if (this.restart.atMs + this.restart.downMs > result.durationMs) throw new InfraError(`the control plane restart (at ${this.restart.atMs}ms, down ${this.restart.downMs}ms) did not fall inside the load (${result.durationMs.toFixed(0)}ms); send more requests`);
    this.loads.push({ ...this.run.addLoad(this.name, result), controlPlaneRestart: this.restart });
    this.lastLoad = { result, plan };
    return [...this.loadEvidence(1), { name: 'control plane restart', contentType: 'application/json', body: JSON.stringify(this.restart, null, 2) }];
  }

  /** A plaintext client outside the mesh calls each instance of a service directly. */
  async plaintextProbe(service: string): Promise<Evidence[]> {
    this.probe = await this.target.traffic.plaintextProbe(service);
    return [{ name: 'plaintext probe', contentType: 'application/json', body: JSON.stringify(this.probe, null, 2) }];
  }

  /** The same rate with and without the mesh (overhead-run.ts); its evidence: both loads. */
  async overheadRun(service: string, rps: number, durationMs: number, shape?: OverheadShape): Promise<Evidence[]> {
    const { rounds, summary } = await measureOverhead(this, service, rps, durationMs, (what, undo) => this.remember(what, undo), shape);
    this.overheadRounds = rounds;
    this.overhead = summary;
    this.run.overhead.push(summary);
    return this.loadEvidence(2);
  }

  /** The last `count` loads' summaries and one latency chart of them. */
  private loadEvidence(count: number): Evidence[] {
    return loadEvidence(this.loads.slice(-count), this.run.histograms.slice(-count));
  }

  /** What the mesh's metrics counted for a service in this scenario: the increase since its start, over at most `windowMs`. */
  async meshCounts(service: string, windowMs: number): Promise<MeshCounts> {
    const prom = await this.run.prometheus();
    if (this.promStartMs === undefined) throw new InfraError('Prometheus was not ready before the load; the scenario must name a Prometheus check so it starts first');
    const end = Date.now();
    await prom.scrapedAfter(end);
    const start = Math.max(this.promStartMs, end - windowMs);
    const { query, codeLabel } = this.target.observations!.requestsByCode(service);
    const [a, b] = await Promise.all([prom.query(query, start), prom.query(query, Date.now())]);
    const byCode = new Map<string, number>();
    const code = (x: { labels: Record<string, string> }) => x.labels[codeLabel] ?? '?';
    for (const x of b) byCode.set(code(x), x.value);
    for (const x of a) byCode.set(code(x), (byCode.get(code(x)) ?? 0) - x.value);
    return { byCode, windowMs: Date.now() - start, query };
  }

  /** Samples of the last load, or an error naming the missing When step. */
  samples(): readonly Sample[] {
    if (!this.lastLoad) throw new InfraError('no load was sent before this check; add a "When ... requests are sent ..." step');
    return this.lastLoad.result.samples;
  }

  /**
   * Records a verdict, once its fault was seen in effect where it relies on one (efficacy); its
   * evidence, and how it ends its step (a FAILED or INCONCLUSIVE verdict fails it).
   */
  async conclude(v: Verdict): Promise<{ evidence: Evidence[] } & ReturnType<typeof stepEnd>> {
    const checked = v.outcome === 'PASSED' ? await this.efficacy.confirm(v, this.lastLoad?.result.samples ?? [], this.lastLoad?.result.profile.service) : v;
    this.verdicts.push(checked);
    return { evidence: [{ name: `verdict: ${checked.outcome}`, contentType: 'application/json', body: JSON.stringify(checked, null, 2) }], ...stepEnd(checked) };
  }

  /**
   * Ends the scenario: every mutation undone, its outcome rolled up into the run's record. Gives
   * the error its runner should raise (a cleanup that left problems, a scenario that checked nothing).
   */
  async finish(r: StepsResult): Promise<string | undefined> {
    const problems = this.notSupported ? [] : await this.cleanup();
    const { record, raise } = rollUp(this, r, problems);
    this.run.scenarios.push(record);
    return raise;
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
