/** Outcome-bearing error family. Each subclass maps to one exit code (see src/outcome.ts). */
export class MeshcheckError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input from the user: a feature file, a step argument or a CLI option (exit 2). */
export class UsageError extends MeshcheckError {}

/** The harness or its infrastructure failed: a tool missing, a process that would not start (exit 3). */
export class InfraError extends MeshcheckError {}

/** The run was interrupted (Ctrl-C, SIGTERM): nothing new is started while it cleans up (exit 130). */
export class InterruptedError extends MeshcheckError {}

/** Where in a feature file a value came from, so errors can point at it. */
export interface SourceRef {
  file: string;
  line: number;
}

export function at(ref: SourceRef | undefined): string {
  return ref ? `${ref.file}:${ref.line}` : '<no source>';
}

/** An invalid value in a feature file, named by file and line with the form that was expected. */
export class IntentError extends UsageError {
  constructor(ref: SourceRef | undefined, what: string, expected: string) {
    super(`${at(ref)}: ${what}; expected ${expected}`);
  }
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause ? `: ${describeError(err.cause)}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
