/** Reverts one mutation; each mutation hands back its own. */
export type Undo = () => Promise<void>;

/**
 * What follows a mutation (a wait until it is in effect), with the mutation's undo run when that
 * fails, before the error goes on: a caller never receives the undo of a step that threw.
 */
export async function orUndo<T>(next: Promise<T> | (() => Promise<T>), undo: Undo): Promise<T> {
  try {
    return await (typeof next === 'function' ? next() : next);
  } catch (err) {
    await undo().catch(() => undefined);
    throw err;
  }
}
