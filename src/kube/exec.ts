import { PassThrough } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { InfraError } from '../errors.js';
import { apiErrorMessage } from './client.js';

/** A process started in a pod's container (as `kubectl exec -i`): its streams, its exit code once known, and how to end it. */
export interface Executed {
  stdin: PassThrough;
  stdout: PassThrough;
  /** The end of what it wrote on stderr. */
  stderr(): string;
  /** Its exit code (null when the stream ended without one). */
  exited: Promise<number | null>;
  /** Closes its stdin and the stream; a process that reads stdin ends with it. */
  kill(): void;
}

/** The exit code in the status the API server sends at the end of an exec (Success, or NonZeroExitCode with it). */
export function exitCodeOf(s: V1Status): number | null {
  if (s.status === 'Success') return 0;
  const code = s.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  return code !== undefined ? Number(code) : null;
}

/** Starts `command` in a container of a pod through the API server (pods/exec), stdin kept open. */
export async function execIn(kc: KubeConfig, namespace: string, pod: string, container: string, command: string[]): Promise<Executed> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let tail = '';
  stderr.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4000)));
  let settle!: (code: number | null) => void;
  const exited = new Promise<number | null>((resolve) => (settle = resolve));
  let ws: Awaited<ReturnType<Exec['exec']>>;
  try {
    ws = await new Exec(kc).exec(namespace, pod, container, command, stdout, stderr, stdin, false, (s) => settle(exitCodeOf(s)));
  } catch (err) {
    throw new InfraError(`exec in pod ${namespace}/${pod} (container ${container}): ${apiErrorMessage(err)}`);
  }
  ws.on('close', () => {
    settle(null);
    stdout.end();
  });
  return {
    stdin,
    stdout,
    stderr: () => tail.trim().split('\n').slice(-3).join(' | '),
    exited,
    kill: () => {
      stdin.end();
      ws.close();
    },
  };
}

/**
 * Runs `command` in a container with no input and collects all it writes on stdout (as
 * `kubectl exec ... > out`); `onFirstOutput` is called when its first bytes arrive.
 */
export async function execOutput(
  kc: KubeConfig, namespace: string, pod: string, container: string, command: string[], onFirstOutput?: () => void,
): Promise<{ out: string; code: number | null; stderr: string }> {
  const x = await execIn(kc, namespace, pod, container, command);
  x.stdin.end();
  let out = '';
  x.stdout.on('data', (d: Buffer) => {
    if (!out) onFirstOutput?.();
    out += d.toString();
  });
  const code = await x.exited;
  await new Promise((resolve) => (x.stdout.readableEnded ? resolve(undefined) : x.stdout.once('end', resolve)));
  return { out, code, stderr: x.stderr() };
}
