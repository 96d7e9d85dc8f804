import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { InfraError } from '../errors.js';
import { timeouts } from '../config.js';
import type { LoadProfile } from './profile.js';
import type { LoadResult } from './result.js';
import { Collector, configOf, type CollectorOptions } from './proxyless-lines.js';

/**
 * A running meshcheck-proxyless process, wherever it runs: a child process on this machine (the Istio
 * tier) or a process started in a pod (the kube target, pods/exec). Lines on stdin stop a load or start
 * the next one; closing stdin ends it.
 */
export interface ProxylessIo {
  stdin: Writable;
  stdout: Readable;
  /** The end of what it wrote on stderr, for errors. */
  stderr(): string;
  exited: Promise<number | null>;
  kill(): void;
}

export interface ProxylessRun extends CollectorOptions {
  /** "xds:///svc.ns.svc.cluster.local:port" through the mesh, or "ip:port" in plain gRPC. */
  target: string;
}

/** The longest a load may take before it is cut off: its schedule, the client's deadline, and slack. */
export function budgetMs(p: LoadProfile): number {
  return (p.rps ? (p.requests * 1000) / p.rps : 0) + 30_000 + timeouts.loadSlackMs;
}

/**
 * One load by a `meshcheck-proxyless load` process started for it (`start` gets its config argument),
 * each call due at start + i/rate, its latency counted from then: its per-call lines become the same
 * LoadResult, in send order, as the other engines give.
 */
export async function runLoadOver(p: LoadProfile, o: ProxylessRun, start: (config: string) => ProxylessIo | Promise<ProxylessIo>): Promise<LoadResult> {
  const io = await start(configOf(p, o.target));
  const c = new Collector(p, o, () => io.stdin.write('stop\n'));
  const killer = setTimeout(() => io.kill(), budgetMs(p));
  try {
    for await (const text of createInterface({ input: io.stdout })) c.line(text);
    const code = await io.exited;
    if (code !== 0 || !c.done) throw new InfraError(`the proxyless load client exited with ${code}: ${io.stderr() || 'no output'}`);
    return c.result();
  } finally {
    clearTimeout(killer);
    c.close();
    io.kill();
  }
}

/**
 * A proxyless client kept running (meshcheck-proxyless agent): its channels keep the config istiod
 * gave them, as a running client does when its control plane goes away. One load at a time.
 */
export class ProxylessAgent {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly io: ProxylessIo) {
    this.lines = createInterface({ input: io.stdout })[Symbol.asyncIterator]();
  }

  /** Takes a started agent and connects its channels to every target (their xDS config fetched now). */
  static async over(io: ProxylessIo, targets: string[]): Promise<ProxylessAgent> {
    const a = new ProxylessAgent(io);
    try {
      await a.until((l) => l.startsWith('READY '));
      io.stdin.write(`${JSON.stringify({ connect: targets })}\n`);
      for (let n = 0; n < targets.length; n++) {
        const c = JSON.parse((await a.until((l) => l.startsWith('CONNECTED '))).slice(10)) as { target: string; state: string; error?: string };
        // A channel that is not connected now has no config to keep while the control plane is away.
        if (c.state !== 'READY') throw new InfraError(`the proxyless client kept for the control plane's outage could not connect to ${c.target}: channel ${c.state}${c.error ? ` (a call: ${c.error})` : ''}`);
      }
    } catch (err) {
      a.stop();
      throw err;
    }
    return a;
  }

  private async until(match: (line: string) => boolean): Promise<string> {
    for (;;) {
      const next = await this.lines.next();
      if (next.done) throw new InfraError(`the proxyless client exited: ${this.io.stderr() || 'no output'}`);
      if (match(next.value)) return next.value;
    }
  }

  async run(p: LoadProfile, o: ProxylessRun): Promise<LoadResult> {
    const c = new Collector(p, o, () => this.io.stdin.write('stop\n'));
    const killer = setTimeout(() => this.io.kill(), budgetMs(p));
    try {
      this.io.stdin.write(`${configOf(p, o.target)}\n`);
      await this.until((l) => c.line(l));
      return c.result();
    } finally {
      clearTimeout(killer);
      c.close();
    }
  }

  stop(): void {
    this.io.kill();
  }
}
