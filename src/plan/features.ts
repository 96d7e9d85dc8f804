import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AstBuilder, GherkinClassicTokenMatcher, Parser, compile } from '@cucumber/gherkin';
import { IdGenerator, type GherkinDocument } from '@cucumber/messages';
import { UsageError, type SourceRef } from '../errors.js';
import { checkFeatureOf, intentOfStep, scenarioClaims } from '../gherkin/catalogue.js';
import { HTTP_READING } from '../load/reading.js';
import type { ClaimSpec } from '../verdicts/sample-checks.js';
import { tableRows } from '../gherkin/step-def.js';
import type { CheckFeature } from '../meshes/types.js';
import { validateIntent } from '../intents/validate.js';
import type { Intent } from '../intents/types.js';

/** One scenario of a feature file, with the mesh intents its steps state (in step order). */
export interface PlannedScenario {
  name: string;
  /** Feature file, relative to the working directory. */
  file: string;
  line: number;
  /** Capability: the feature file's base name (fault-injection, mtls, ...). */
  capability: string;
  tags: string[];
  intents: { intent: Intent; source: SourceRef }[];
  /** Then steps that need a capability beyond intents (the mesh's metrics, sidecars to measure). */
  checks: { feature: CheckFeature; text: string; line: number }[];
  /** Then steps decided from the load's samples, with the budget of the load they follow. */
  claims: { text: string; line: number; spec: ClaimSpec; budget?: number }[];
}

/** Feature files under the given files or folders, sorted. */
export function featureFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new UsageError(`feature path ${p} does not exist`);
    if (statSync(p).isDirectory()) out.push(...featureFiles(readdirSync(p).sort().map((e) => join(p, e)).filter((e) => statSync(e).isDirectory() || e.endsWith('.feature'))));
    else out.push(p);
  }
  return out;
}

/**
 * Whether any scenario under the paths has a step that needs the mesh's own metrics (the step
 * catalogue says which), so Prometheus can start in the background before the first scenario needs
 * it. A scenario filtered out by tags only starts Prometheus for nothing; a file that does not parse
 * is left to the run to report.
 */
export function needsPrometheus(paths: string[]): boolean {
  return featureFiles(paths.map((p) => p.replace(/(:\d+)+$/, ''))).some((f) => {
    try {
      const doc = new Parser(new AstBuilder(IdGenerator.uuid()), new GherkinClassicTokenMatcher()).parse(readFileSync(f, 'utf8'));
      return compile(doc, f, IdGenerator.uuid()).some((p) => p.steps.some((s) => checkFeatureOf(s.text) === 'mesh-metrics'));
    } catch {
      return false;
    }
  });
}

/** Parses feature files into scenarios (pickles) and the intents their steps state; nothing runs. */
export function readScenarios(paths: string[]): PlannedScenario[] {
  const out: PlannedScenario[] = [];
  for (const file of featureFiles(paths)) {
    const uri = relative(process.cwd(), file) || file;
    const newId = IdGenerator.uuid();
    let doc: GherkinDocument;
    try {
      doc = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher()).parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`${uri}: ${(err as Error).message}`);
    }
    const lines = astLines(doc);
    const capability = uri.split('/').pop()!.replace(/\.feature$/, '');
    for (const pickle of compile(doc, uri, newId)) {
      const intents: PlannedScenario['intents'] = [];
      const checks: PlannedScenario['checks'] = [];
      for (const step of pickle.steps) {
        const source = { file: uri, line: lines.get(step.astNodeIds[0] ?? '') ?? 0 };
        const feature = checkFeatureOf(step.text);
        if (feature) checks.push({ feature, text: step.text, line: source.line });
        const table = tableRows(step.argument?.dataTable?.rows.map((r) => r.cells.map((c) => c.value)));
        const intent = intentOfStep(step.text, source, table);
        if (intent) intents.push({ intent: validateIntent(intent, source), source });
      }
      // What each load's budget can decide: the claims' wording as HTTP reads it (a data plane's own reading words it, not its numbers).
      const lineOf = (i: number) => lines.get(pickle.steps[i]!.astNodeIds[0] ?? '') ?? 0;
      const claims = scenarioClaims(pickle.steps, HTTP_READING).map((c) => ({
        text: pickle.steps[c.index]!.text, line: lineOf(c.index), spec: c.check.spec, ...(c.budget !== undefined ? { budget: c.budget } : {}),
      }));
      out.push({ name: pickle.name, file: uri, line: lines.get(pickle.astNodeIds[0] ?? '') ?? 0, capability, tags: pickle.tags.map((t) => t.name), intents, checks, claims });
    }
  }
  return out;
}

function astLines(doc: GherkinDocument): Map<string, number> {
  const lines = new Map<string, number>();
  const add = (id: string, line: number) => lines.set(id, line);
  const children = doc.feature?.children ?? [];
  const all = [...children, ...children.flatMap((c) => c.rule?.children ?? [])];
  for (const c of all) {
    for (const s of [c.scenario, c.background]) {
      if (!s) continue;
      add(s.id, s.location.line);
      for (const st of s.steps) add(st.id, st.location.line);
    }
    for (const ex of c.scenario?.examples ?? []) for (const row of ex.tableBody) add(row.id, row.location.line);
  }
  return lines;
}
