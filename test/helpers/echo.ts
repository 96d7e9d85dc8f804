import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { ECHO_SCRIPT_FILE } from '../../src/workload/echo-script.js';
import { eventually } from '../../src/util/eventually.js';
import { freePort } from '../../src/util/net.js';

export interface EchoProcess {
  port: number;
  directPort: number;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/** The cluster's echo workload (src/workload/echo.mjs) as a real process here, with the environment a pod gives it. */
export async function startEcho(env: { service: string; version: string; instance: string; directPort?: number; upstreamUrl?: string }): Promise<EchoProcess> {
  const port = await freePort();
  const directPort = env.directPort ?? (await freePort());
  const child = spawn(process.execPath, [ECHO_SCRIPT_FILE], {
    env: {
      PATH: process.env.PATH, MESHCHECK_SERVICE: env.service, MESHCHECK_VERSION: env.version, MESHCHECK_INSTANCE: env.instance,
      MESHCHECK_PORT: String(port), MESHCHECK_DIRECT_PORT: String(directPort), ...(env.upstreamUrl ? { MESHCHECK_UPSTREAM_URL: env.upstreamUrl } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await eventually(async () => (await request(`http://127.0.0.1:${directPort}/healthz`)).statusCode === 200, { timeoutMs: 10_000, intervalMs: 50, describe: `the echo workload ${env.instance} to listen` });
  return {
    port, directPort, child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
