import { Given as G, When as W, Then as T } from '@cucumber/cucumber';
import type { MeshWorld } from './world.js';

type Fn = (this: MeshWorld, ...args: never[]) => Promise<unknown> | unknown;


/** Step definitions that remember the error they threw, so the After hook can classify it. */
function wrap(fn: Fn, arity = fn.length): Fn {
  const wrapped = async function (this: MeshWorld, ...args: never[]) {
    try {
      return await fn.apply(this, args);
    } catch (err) {
      this.error = err;
      throw err;
    }
  };
  // Cucumber checks a step function's arity against the expression's parameters.
  Object.defineProperty(wrapped, 'length', { value: arity });
  return wrapped;
}

export const Given = (expr: string | RegExp, fn: Fn, arity?: number) => G(expr, wrap(fn, arity) as never);
export const When = (expr: string | RegExp, fn: Fn) => W(expr, wrap(fn) as never);
export const Then = (expr: string | RegExp, fn: Fn, arity?: number) => T(expr, wrap(fn, arity) as never);
