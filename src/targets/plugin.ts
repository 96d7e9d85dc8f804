import type { Ledger } from '../ledger/ledger.js';
import type { OptionSpec } from '../options.js';
import type { Target } from './ports.js';

/** What every target is started with: the run, the mesh, and the values of the options it declared. */
export interface TargetStart {
  runId: string;
  /** The run folder (the target may keep its logs there). */
  out: string;
  /** --mesh as given (name and @version). */
  mesh: string;
  ledger: Ledger;
  log(m: string): void;
  /** Some scenario of the run queries the mesh's metrics: a target that starts its own Prometheus starts it now. */
  warmPrometheus: boolean;
  /** The values of the options the target declared, by name (as checked by check()). */
  options: Readonly<Record<string, string | undefined>>;
}

/** What a target is asked before anything starts. */
export interface TargetCheck {
  mesh: string;
  engine: string;
  /** The values of its options; check() may complete them (the kubeconfig file it will read). */
  options: Record<string, string | undefined>;
}

/**
 * A target as a plugin (docs/adr/0010): the --target it answers, the meshes it runs, the options only
 * it takes (declared once: the CLI's flags come from them), its checks before a run, and its start.
 */
export interface TargetPlugin {
  /** --target NAME. */
  readonly target: string;
  /** What it is, in messages: "local target", "kube target". */
  readonly title: string;
  /** The meshes it runs, in --help and in a refusal: "the reference mesh". */
  readonly runsWhat: string;
  /** Whether it runs this --mesh (name and @version as given). */
  runs(mesh: string): boolean;
  /**
   * Why none of the plugins of this --target runs a mesh (the first plugin of the --target that
   * says): `runsWhat` lists what they do run.
   */
  refuse?(mesh: string, runsWhat: readonly string[]): string;
  /** Options only this target takes. */
  options(): readonly OptionSpec[];
  /** Usage errors (exit 2) before anything starts: the mesh's version, the options together, the tools it needs. */
  check(c: TargetCheck): void | Promise<void>;
  start(s: TargetStart): Promise<Target>;
}
