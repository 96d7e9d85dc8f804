import type { DataTable } from '@cucumber/cucumber';
import { Given } from './support/dsl.js';
import type { MeshWorld } from './support/world.js';
import { INTENT_STEPS } from '../src/gherkin/intent-steps.js';

// Every intent step comes from the one catalogue that `meshcheck plan` reads too.
for (const step of INTENT_STEPS) {
  const params = typeof step.expression === 'string' ? (step.expression.match(/\{[^}]+\}/g) ?? []).length : new RegExp(`${step.expression.source}|`).exec('')!.length - 1;
  Given(step.expression, async function (this: MeshWorld, ...args: unknown[]) {
    // Cucumber appends its own callback after the step's arguments; take only what the expression gave.
    const table = step.table ? (args[params] as DataTable).hashes() : undefined;
    await this.applyIntent(step.build(args.slice(0, params), this.ref, table));
  }, params + (step.table ? 1 : 0));
}
