import { join } from 'node:path';

/**
 * Everything a run is started with, as one typed value: `meshcheck run` builds it from its flags,
 * and it reaches the scenarios through cucumber's worldParameters (key `meshcheck`), as a profile of
 * cucumber.mjs gives it when cucumber runs the features itself.
 */
export interface RunSettings {
  runId: string;
  /** The run folder: Allure results, JUnit XML, the run record. */
  out: string;
  /** --target: local or kube. */
  target: string;
  /** --mesh, with @version where given. */
  mesh: string;
  engine: 'embedded' | 'k6';
  /** Print a live progress line on stderr. */
  progress: boolean;
  /** Some scenario queries the mesh's metrics: a target that starts its own Prometheus starts it with the run. */
  warmPrometheus: boolean;
  /** The values of the options the target declared (src/targets/<target>/plugin.ts), by name. */
  options: Record<string, string | undefined>;
}

/** The key of the run's settings in cucumber's worldParameters. */
export const WORLD_KEY = 'meshcheck';

/** A new run id: the time, and the process. */
export function newRunId(): string {
  return `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
}

/** The run's settings from cucumber's worldParameters: what is given there, the rest by default (a local run of the reference mesh). */
export function settingsFrom(parameters: unknown): RunSettings {
  const given = ((parameters as Record<string, unknown> | undefined)?.[WORLD_KEY] ?? {}) as Partial<RunSettings>;
  const runId = given.runId ?? newRunId();
  return { runId, out: given.out ?? join('runs', runId), target: 'local', mesh: 'reference', engine: 'embedded', progress: false, warmPrometheus: false, ...given, options: { ...given.options } };
}
