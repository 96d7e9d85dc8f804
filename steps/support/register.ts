import { Given, Then, When } from '@cucumber/cucumber';
import { parameterCount, type StepDef } from '../../src/gherkin/step-def.js';
import type { MeshWorld } from './world.js';

const KEYWORD = { Given, When, Then } as const;

/** Registers catalogue steps with cucumber; a step remembers the error it threw, for the scenario's outcome. */
export function register(defs: readonly StepDef[]): void {
  for (const def of defs) {
    const step = async function (this: MeshWorld, ...args: unknown[]) {
      try {
        return await this.exec(def, args);
      } catch (err) {
        this.error = err;
        throw err;
      }
    };
    // Cucumber checks a step function's arity against the expression's parameters (and the data table).
    Object.defineProperty(step, 'length', { value: parameterCount(def) + (def.table ? 1 : 0) });
    KEYWORD[def.keyword](def.expression, step as never);
  }
}
