import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError, InterruptedError } from '../errors.js';
import { Ledger } from '../ledger/ledger.js';
import type { Prometheus } from '../metrics/prometheus.js';
import type { Target } from '../targets/ports.js';
import type { TargetPlugin } from '../targets/plugin.js';
import { checkTarget, targetFor } from '../targets/registry.js';
import { RUN_RECORD_VERSION, type RunRecord, type ScenarioRecord } from '../reports/run-record.js';
import { summarize, type LoadResult } from '../load/result.js';
import { encodeHistogram } from '../load/histogram-codec.js';
import type { OverheadSummary } from '../overhead/overhead.js';
import { machine } from '../util/machine.js';
import type { RunSettings } from './settings.js';

/** A run as the process knows it: its ledger from the start, its plugin, and the run once its target is up. */
export interface OpenRun {
  ledger: Ledger;
  plugin: TargetPlugin;
  run?: Run;
}

/**
 * The runs open in this process, by run id: `meshcheck run` takes its run's outcomes from here, and
 * on an interrupt undoes what its ledger records (while the target is still starting, too).
 */
const open = new Map<string, OpenRun>();

/** A run open (or finished) in this process, by id. */
export function openRun(runId: string): OpenRun | undefined {
  return open.get(runId);
}

/** State shared by every scenario of one run: the target, the ledger, and what goes in the run record. */
export class Run {
  readonly scenarios: ScenarioRecord[] = [];
  readonly histograms: RunRecord['histograms'] = [];
  /** Overhead measurements (mesh vs no-mesh baseline), for the comparative report and compare. */
  readonly overhead: OverheadSummary[] = [];
  readonly startedAt = new Date();
  private prom?: Promise<Prometheus>;

  private constructor(readonly settings: RunSettings, readonly ledger: Ledger, readonly target: Target, readonly log: (m: string) => void) {}

  /** Checks the settings with the target's plugin, then starts the target; the ledger records from the first step. */
  static async open(settings: RunSettings, log: (m: string) => void): Promise<Run> {
    const plugin = targetFor(settings.target, settings.mesh);
    await checkTarget(plugin, { mesh: settings.mesh, engine: settings.engine, options: settings.options });
    mkdirSync(settings.out, { recursive: true });
    const ledger = new Ledger(settings.runId);
    ledger.record({ op: 'run', runId: settings.runId, pid: process.pid, startedAt: new Date().toISOString(), out: settings.out });
    // Until the target is up, an interrupt undoes what its ledger records (a target takes seconds to start).
    const entry: OpenRun = { ledger, plugin };
    open.set(settings.runId, entry);
    const target = await plugin.start({
      runId: settings.runId,
      out: settings.out,
      mesh: settings.mesh,
      ledger,
      log,
      warmPrometheus: settings.warmPrometheus,
      options: settings.options,
    });
    // Interrupted while starting: the signal handler is undoing what the ledger recorded; no scenario runs.
    if (ledger.sealed) throw new InterruptedError(`${ledger.sealed}: the run stops before its first scenario`);
    entry.run = new Run(settings, ledger, target, log);
    return entry.run;
  }

  /** Why the run was interrupted (its ledger sealed), or undefined: once set, nothing new starts. */
  get interrupted(): string | undefined {
    return this.ledger.sealed;
  }

  /** Throws once the run is interrupted, so a scenario stops at its next step instead of acting on a target being torn down. */
  throwIfInterrupted(): void {
    if (this.ledger.sealed) throw new InterruptedError(this.ledger.sealed);
  }

  /** The load engine the run's loads use. */
  get engine(): string {
    return this.target.engine ?? this.settings.engine;
  }

  /** The Prometheus that scrapes the target's data plane, started (or reached) once per run. */
  prometheus(): Promise<Prometheus> {
    const obs = this.target.observations;
    if (!obs) return Promise.reject(new InfraError(this.target.lacks('mesh-metrics') ?? 'this target reports no metrics'));
    this.prom ??= obs.prometheus();
    return this.prom;
  }

  /** Keeps a load's histogram for the record; the summary goes with its scenario. */
  addLoad(scenario: string, r: LoadResult): Record<string, unknown> {
    this.histograms.push({ scenario, service: r.profile.service, engine: r.engine, hdr: encodeHistogram(r.histogram), durationMs: Math.round(r.durationMs) });
    return summarize(r);
  }

  /** The run record: every scenario, histogram and overhead measurement, and the machine. */
  record(): RunRecord {
    return {
      schema: RUN_RECORD_VERSION, runId: this.settings.runId, mesh: this.settings.mesh, target: this.settings.target, engine: this.engine,
      startedAt: this.startedAt.toISOString(), finishedAt: new Date().toISOString(),
      convergenceMs: this.target.convergenceMs.map((x) => Number(x.toFixed(2))), targetInfo: this.target.describe(),
      machine: machine(), scenarios: this.scenarios, histograms: this.histograms, overhead: this.overhead,
    };
  }

  /** Writes the versioned run record (JSON, with HDR histograms). */
  writeRecord(): string {
    const file = join(this.settings.out, 'run-record.json');
    writeFileSync(file, `${JSON.stringify(this.record(), null, 2)}\n`);
    return file;
  }

  /** Stops every process and removes what the run created; the ledger goes once all is undone. */
  async close(): Promise<void> {
    await this.target.stop();
    this.ledger.close();
  }
}
