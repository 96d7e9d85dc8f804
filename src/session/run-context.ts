import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { Ledger } from '../ledger/ledger.js';
import { LocalTarget } from '../targets/local/local-target.js';
import type { Target } from '../targets/target.js';
import { RUN_RECORD_VERSION } from '../reports/run-record.js';
import { Prometheus } from '../metrics/prometheus.js';
import type { Outcome, Verdict } from '../verdicts/outcome.js';
import { summarize, type LoadResult } from '../load/result.js';
import { encodeHistogram } from '../load/histogram-codec.js';
import type { OverheadSummary } from '../overhead/overhead.js';

/** Settings the CLI hands to the cucumber run (through the MESHCHECK_RUN environment variable). */
export interface RunSettings {
  runId: string;
  out: string;
  /** "reference" or "istio" (the Istio tier) on the local target; an adapter name (with @version) on kube. */
  mesh: string;
  target: 'local' | 'kube';
  /** Kube target: the context (named explicitly) and kubeconfig file. */
  context?: string;
  kubeconfig?: string;
  /** Kube target: --allow-changes-in (comma-separated) and --istiod-url. */
  allowChangesIn?: string;
  istiodUrl?: string;
  k6Image?: string;
  imageMirror?: string;
  prometheusUrl?: string;
  prometheusService?: string;
  engine: 'embedded' | 'k6';
  /** Print a live progress line on stderr. */
  progress: boolean;
  /** Start Prometheus in the background at the start of the run: some scenario will query it. */
  warmPrometheus?: boolean;
}

export interface ScenarioRecord {
  name: string;
  feature: string;
  capability: string;
  outcome: Outcome;
  verdicts: Verdict[];
  loads: Record<string, unknown>[];
  convergenceMs: number[];
  error?: string;
  usageError?: boolean;
  /** NOT_SUPPORTED: each unsupported intent and the mesh's reason. */
  notSupported?: string[];
  /** Why a verdict could not be FAILED: the load generator was behind or the machine busy (figures). */
  infrastructure?: string[];
}

/** State shared by every scenario of one run: the target, the ledger and the run record. */
export class RunContext {
  private static current?: RunContext;
  readonly scenarios: ScenarioRecord[] = [];
  readonly histograms: { scenario: string; service: string; engine: string; hdr: string }[] = [];
  /** Overhead measurements (mesh vs no-mesh baseline), for the comparative report and compare. */
  readonly overhead: OverheadSummary[] = [];
  readonly startedAt = new Date();

  private constructor(readonly settings: RunSettings, readonly ledger: Ledger, readonly target: Target, private prom?: Promise<Prometheus>) {}

  /** The load engine the run's loads use. */
  get engine(): string {
    return this.target.engine ?? this.settings.engine;
  }

  static settingsFromEnv(): RunSettings {
    const fromEnv = process.env.MESHCHECK_RUN ? (JSON.parse(process.env.MESHCHECK_RUN) as Partial<RunSettings>) : {};
    const runId = fromEnv.runId ?? `run-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    return { runId, out: fromEnv.out ?? join('runs', runId), mesh: 'reference', target: 'local', engine: 'embedded', progress: fromEnv.progress ?? false, ...fromEnv };
  }

  static async open(log: (m: string) => void): Promise<RunContext> {
    const settings = RunContext.settingsFromEnv();
    mkdirSync(settings.out, { recursive: true });
    const ledger = new Ledger(settings.runId);
    ledger.record({ op: 'run', runId: settings.runId, pid: process.pid, startedAt: new Date().toISOString(), out: settings.out });
    // Until the target is up, an interrupt undoes what its ledger records (the Istio tier takes seconds).
    RunContext.starting = ledger;
    if (settings.target === 'kube') {
      // The Kubernetes client is loaded only for the kube target and the Istio tier (a second and a half of start-up).
      const { KubeTarget } = await import('../targets/kube/kube-target.js');
      const { allowedNamespaces } = await import('../targets/kube/guard.js');
      const kube = await KubeTarget.connect({ context: settings.context!, kubeconfig: settings.kubeconfig, mesh: settings.mesh, allowChangesIn: allowedNamespaces(settings.allowChangesIn), istiodUrl: settings.istiodUrl, k6Image: settings.k6Image, imageMirror: settings.imageMirror, prometheusUrl: settings.prometheusUrl, prometheusService: settings.prometheusService }, ledger, settings.runId, log);
      RunContext.current = new RunContext(settings, ledger, kube);
    } else if (settings.mesh.split('@')[0] === 'istio') {
      const { IstioTarget } = await import('../targets/istio/istio-target.js');
      RunContext.current = new RunContext(settings, ledger, await IstioTarget.start(ledger, log, join(settings.out, 'logs')));
    } else {
      // Started beside the sidecars, Prometheus is ready by the time a scenario asks (it takes
      // seconds); it learns the sidecars once they listen. A failure surfaces in that scenario.
      let prom: Promise<Prometheus> | undefined;
      const local = await LocalTarget.start(ledger, log, settings.warmPrometheus ? (t) => {
        prom = Prometheus.start(t);
        prom.catch(() => undefined);
      } : undefined);
      if (prom) Prometheus.writeTargets(local);
      RunContext.current = new RunContext(settings, ledger, local, prom);
    }
    RunContext.starting = undefined;
    return RunContext.current;
  }

  /** The ledger of a run whose target is still starting (for an interrupt during bring-up). */
  static starting?: Ledger;

  static get(): RunContext {
    if (!RunContext.current) throw new Error('meshcheck run context is not open (BeforeAll hook did not run)');
    return RunContext.current;
  }

  static peek(): RunContext | undefined {
    return RunContext.current;
  }

  prometheus(): Promise<Prometheus> {
    this.prom ??= this.target.prometheus?.() ?? Prometheus.start(this.target);
    return this.prom;
  }

  addLoad(scenario: string, r: LoadResult): Record<string, unknown> {
    this.histograms.push({ scenario, service: r.profile.service, engine: r.engine, hdr: encodeHistogram(r.histogram) });
    return summarize(r);
  }

  /** Writes the versioned run record (JSON, with HDR histograms). */
  writeRecord(): string {
    const file = join(this.settings.out, 'run-record.json');
    const record = {
      schema: RUN_RECORD_VERSION, runId: this.settings.runId, mesh: this.settings.mesh, target: this.settings.target, engine: this.engine,
      startedAt: this.startedAt.toISOString(), finishedAt: new Date().toISOString(),
      convergenceMs: this.target.convergenceMs.map((x) => Number(x.toFixed(2))), targetInfo: this.target.describe(),
      machine: machine(), scenarios: this.scenarios, histograms: this.histograms, overhead: this.overhead,
    };
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    return file;
  }

  /** Stops every process and removes what the run created; the ledger goes once all is undone. */
  async close(): Promise<void> {
    await this.target.stop();
    this.ledger.close();
    RunContext.current = undefined;
  }
}

/** The machine a run ran on: figures only compare on like machines. */
export function machine(): { cores: number; memoryGiB: number; cpu: string; node: string; os: string } {
  return { cores: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, os: `${platform()} ${release()}` };
}
