import type { Envelope } from '@cucumber/messages';

/** Collects steps no definition matched, with their feature file and line, from cucumber's messages. */
export class UndefinedSteps {
  private readonly lines = new Map<string, number>();
  private readonly pickleSteps = new Map<string, { uri: string; text: string; astId: string }>();
  private readonly testSteps = new Map<string, string>();
  readonly found: string[] = [];

  onMessage = (m: Envelope): void => {
    if (m.gherkinDocument) {
      const visit = (steps: readonly { id: string; location: { line: number } }[] | undefined) => steps?.forEach((s) => this.lines.set(s.id, s.location.line));
      for (const c of m.gherkinDocument.feature?.children ?? []) {
        visit(c.scenario?.steps);
        visit(c.background?.steps);
        c.rule?.children.forEach((rc) => { visit(rc.scenario?.steps); visit(rc.background?.steps); });
      }
    }
    if (m.pickle) for (const s of m.pickle.steps) this.pickleSteps.set(s.id, { uri: m.pickle.uri, text: s.text, astId: s.astNodeIds[0] ?? '' });
    if (m.testCase) for (const ts of m.testCase.testSteps) if (ts.pickleStepId) this.testSteps.set(ts.id, ts.pickleStepId);
    if (m.testStepFinished?.testStepResult.status === 'UNDEFINED') {
      const ps = this.pickleSteps.get(this.testSteps.get(m.testStepFinished.testStepId) ?? '');
      if (ps) this.found.push(`${ps.uri}:${this.lines.get(ps.astId) ?? '?'}: no step matches "${ps.text}"`);
    }
  };
}
