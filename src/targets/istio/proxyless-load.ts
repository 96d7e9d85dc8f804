import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { tool } from '../../util/tools.js';
import type { LoadProfile } from '../../load/profile.js';
import type { LoadResult } from '../../load/result.js';
import { ProxylessAgent, runLoadOver, type ProxylessIo, type ProxylessRun } from '../../load/proxyless-client.js';

export interface ProxylessLoadOptions extends ProxylessRun {
  /** The caller's xDS bootstrap (its identity's certificate); undefined for plain gRPC. */
  bootstrapFile?: string;
}

function env(bootstrapFile?: string): NodeJS.ProcessEnv {
  return { ...process.env, ...(bootstrapFile ? { GRPC_XDS_BOOTSTRAP: bootstrapFile } : {}), GRPC_GO_LOG_SEVERITY_LEVEL: 'error' };
}

/** Load clients running now: stopped with the target (they also end when meshcheck's end closes their stdin). */
const running = new Set<ChildProcessWithoutNullStreams>();

export function stopRunningLoads(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

/** A child process of meshcheck-proxyless with the caller's bootstrap, as the shared client takes it. */
function spawnClient(args: string[], bootstrapFile?: string): ProxylessIo {
  const child = spawn(tool('meshcheck-proxyless'), args, { stdio: ['pipe', 'pipe', 'pipe'], env: env(bootstrapFile) });
  running.add(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    running.delete(child);
    resolve(code);
  }));
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: () => stderr.trim().split('\n').slice(-3).join(' | '),
    exited,
    kill: () => {
      child.stdin.destroy();
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * The proxyless load client (meshcheck-proxyless load: grpc-go's xDS client, open model), one process
 * per load, so each load starts from the config istiod serves now.
 */
export function runProxyless(p: LoadProfile, o: ProxylessLoadOptions): Promise<LoadResult> {
  return runLoadOver(p, o, (config) => spawnClient(['load', config], o.bootstrapFile));
}

/** A proxyless client kept running with the caller's bootstrap, its channels connected to every target. */
export function startAgent(targets: string[], bootstrapFile: string): Promise<ProxylessAgent> {
  return ProxylessAgent.over(spawnClient(['agent'], bootstrapFile), targets);
}
