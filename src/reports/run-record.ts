import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { OverheadSummary } from '../overhead/overhead.js';
import type { Outcome, Verdict } from '../verdicts/outcome.js';

/*
 * The run record (run-record.json): versioned JSON that `meshcheck run` writes and `report`,
 * `compare` and `conformance` read. Its schema lives here, once.
 */

export const RUN_RECORD_VERSION = 'meshcheck.run/v1';

/** One scenario's outcome, its verdicts and loads. */
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

/** The machine a run ran on: figures only compare on like machines. */
export interface Machine {
  cores: number;
  memoryGiB: number;
  cpu: string;
  node: string;
  os: string;
}

/** A run record as written by `meshcheck run` (run-record.json). */
export interface RunRecord {
  schema: string;
  runId: string;
  mesh: string;
  target: string;
  engine: string;
  startedAt: string;
  finishedAt: string;
  convergenceMs: number[];
  /** What the target says of itself (versions, how the mesh was reached, convergence). */
  targetInfo?: Record<string, unknown>;
  machine?: Machine;
  scenarios: ScenarioRecord[];
  /** Every load's latencies; `durationMs` (the load's length) lets the gate allow for stalls (absent in older records). */
  histograms: { scenario: string; service: string; engine: string; hdr: string; durationMs?: number }[];
  overhead?: OverheadSummary[];
}

/** Reads a run record from a run folder (or the file itself); errors name the path and what is wrong. */
export function readRunRecord(path: string): RunRecord & { dir: string; file: string } {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  const file = isDir ? join(path, 'run-record.json') : path;
  if (!existsSync(file)) throw new UsageError(`${file}: no run record here; pass a folder written by "meshcheck run --out DIR"`);
  let data: RunRecord;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (data.schema !== RUN_RECORD_VERSION) throw new UsageError(`${file}: schema is "${String(data.schema)}", expected "${RUN_RECORD_VERSION}"`);
  return { ...data, dir: isDir ? path : join(file, '..'), file };
}
