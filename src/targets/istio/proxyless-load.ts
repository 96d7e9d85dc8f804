import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { InfraError } from '../../errors.js';
import { tool } from '../../util/tools.js';
import type { LoadProfile, Sample } from '../../load/profile.js';
import { generatorFigures, newHistogram, type LoadResult } from '../../load/result.js';
import { SendOrder } from '../../load/send-order.js';
import { timeouts } from '../../config.js';

export interface ProxylessLoadOptions {
  /** "xds:///svc.ns.svc.cluster.local:port" through the mesh, or "ip:port" in plain gRPC. */
  target: string;
  /** The caller's xDS bootstrap (its identity's certificate); undefined for plain gRPC. */
  bootstrapFile?: string;
  shouldStop?: (samples: readonly Sample[]) => boolean;
  onProgress?: (p: { sent: number; completed: number; errors: number; rps: number }) => void;
}

type Line = [seq: number, lagUs: number, latencyUs: number, code: number, body: string];

/** A gRPC reply from meshcheck's echo workload. */
interface EchoReply { service?: string; version?: string; instance?: string; caller?: string }

/** Turns the client's lines (R per arrival, DONE at the end) into a LoadResult, in send order. */
class Collector {
  private readonly order = new SendOrder();
  private readonly histogram = newHistogram();
  private readonly timeline: LoadResult['timeline'] = [];
  private readonly lags: number[] = [];
  private sent = 0;
  private dropped = 0;
  private completed = 0;
  private errors = 0;
  private checkedAt = 0;
  private stopped = false;
  private t0 = 0;
  private readonly startedAt = Date.now();
  private readonly progress?: NodeJS.Timeout;
  done?: { sent: number; dropped: number; sendMs: number; totalMs: number; readyMs: number; stoppedEarly: boolean };

  constructor(private readonly p: LoadProfile, private readonly o: Pick<ProxylessLoadOptions, 'shouldStop' | 'onProgress'>, private readonly stop: () => void) {
    if (o.onProgress) {
      this.progress = setInterval(() => {
        const secs = this.t0 ? (performance.now() - this.t0) / 1000 : 0;
        o.onProgress!({ sent: this.sent, completed: this.completed, errors: this.errors, rps: secs > 0 ? this.completed / secs : 0 });
      }, 500);
    }
  }

  /** Takes one output line; true once the load is done. */
  line(text: string): boolean {
    if (text.startsWith('DONE ')) {
      this.done = JSON.parse(text.slice(5)) as Collector['done'];
      return true;
    }
    if (!text.startsWith('R ')) return false;
    this.t0 ||= performance.now();
    const [seq, lagUs, latencyUs, code, body] = JSON.parse(text.slice(2)) as Line;
    while (this.order.arrived <= seq) this.order.arrive();
    if (code === -1) {
      this.dropped++;
      this.order.drop(seq);
      return false;
    }
    this.sent++;
    this.completed++;
    this.lags.push(lagUs);
    const reply = code === 0 ? parseReply(body) : {};
    const s: Sample = {
      status: code === 0 ? 200 : 0, grpc: code, version: reply.version, caller: reply.caller, latencyUs, lagUs,
      // grpc-go's circuit breaker (DestinationRule http2MaxRequests) fails a call UNAVAILABLE with this message.
      overloaded: code === 14 && /^max requests \d+ exceeded/.test(body),
      flags: code !== 0 && body === 'RPC terminated due to fault injection' ? 'FI' : '-',
    };
    this.order.complete(seq, s);
    this.histogram.recordValue(Math.max(1, latencyUs));
    const sec = Math.floor(seq / (this.p.rps ?? Infinity) + latencyUs / 1e6);
    while (this.timeline.length <= sec) this.timeline.push({ second: this.timeline.length, completed: 0, errors: 0 });
    this.timeline[sec]!.completed++;
    if (code !== 0) {
      this.timeline[sec]!.errors++;
      this.errors++;
    }
    if (!this.stopped && this.o.shouldStop && this.order.prefix.length - this.checkedAt >= 20) {
      this.checkedAt = this.order.prefix.length;
      if (this.o.shouldStop(this.order.prefix)) {
        this.stopped = true;
        this.stop();
      }
    }
    return false;
  }

  result(): LoadResult {
    if (this.progress) clearInterval(this.progress);
    const d = this.done!;
    const generator = generatorFigures(this.p, {
      arrivals: this.order.arrived,
      dropped: this.dropped,
      completed: this.completed,
      sendWindowMs: d.sendMs,
      durationMs: d.totalMs,
      lagUs: this.lags,
    });
    return { engine: 'proxyless-grpc', profile: this.p, startedAt: this.startedAt, durationMs: d.totalMs, sent: this.sent, dropped: this.dropped, stoppedEarly: d.stoppedEarly, samples: this.order.prefix, histogram: this.histogram, timeline: this.timeline, generator };
  }

  close(): void {
    if (this.progress) clearInterval(this.progress);
  }
}

function configOf(p: LoadProfile, target: string): string {
  return JSON.stringify({ target, rps: p.rps ?? 0, requests: p.requests, maxInFlight: p.maxInFlight, headers: p.headers });
}

function env(bootstrapFile?: string): NodeJS.ProcessEnv {
  return { ...process.env, ...(bootstrapFile ? { GRPC_XDS_BOOTSTRAP: bootstrapFile } : {}), GRPC_GO_LOG_SEVERITY_LEVEL: 'error' };
}

/** The longest a load may take before it is cut off: its schedule, the client's deadline, and slack. */
function budgetMs(p: LoadProfile): number {
  return (p.rps ? (p.requests * 1000) / p.rps : 0) + 30_000 + timeouts.loadSlackMs;
}

/** Load clients running now: stopped with the target (they also end when meshcheck's end closes their stdin). */
const running = new Set<ChildProcessWithoutNullStreams>();

export function stopRunningLoads(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

/**
 * The proxyless load client (meshcheck-proxyless load: grpc-go's xDS client, open model), one process
 * per load, so each load starts from the config istiod serves now: each call is due at start + i/rate,
 * and its latency counts from then. Its per-request lines become the same LoadResult, in send order,
 * as the other engines give.
 */
export async function runProxyless(p: LoadProfile, o: ProxylessLoadOptions): Promise<LoadResult> {
  const child = spawn(tool('meshcheck-proxyless'), ['load', configOf(p, o.target)], { stdio: ['pipe', 'pipe', 'pipe'], env: env(o.bootstrapFile) });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const c = new Collector(p, o, () => child.stdin.write('stop\n'));
  const killer = setTimeout(() => child.kill('SIGKILL'), budgetMs(p));
  try {
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for await (const text of createInterface({ input: child.stdout })) c.line(text);
    const code = await exit;
    if (code !== 0 || !c.done) throw new InfraError(`the proxyless load client exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`);
    return c.result();
  } finally {
    clearTimeout(killer);
    c.close();
    child.stdin.destroy();
  }
}

/**
 * A proxyless client kept running (meshcheck-proxyless agent): its channels keep the config istiod
 * gave them, as a running client does when its control plane goes away. One load at a time.
 */
export class ProxylessAgent {
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts the client and connects its channels to every target (their xDS config fetched now). */
  static async start(targets: string[], bootstrapFile: string): Promise<ProxylessAgent> {
    const a = new ProxylessAgent(spawn(tool('meshcheck-proxyless'), ['agent'], { stdio: ['pipe', 'pipe', 'pipe'], env: env(bootstrapFile) }));
    await a.until((l) => l.startsWith('READY '));
    a.child.stdin.write(`${JSON.stringify({ connect: targets })}\n`);
    for (let n = 0; n < targets.length; n++) await a.until((l) => l.startsWith('CONNECTED '));
    return a;
  }

  private async until(match: (line: string) => boolean): Promise<string> {
    for (;;) {
      const next = await this.lines.next();
      if (next.done) throw new InfraError(`the proxyless client exited: ${this.stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`);
      if (match(next.value)) return next.value;
    }
  }

  async run(p: LoadProfile, o: ProxylessLoadOptions): Promise<LoadResult> {
    const c = new Collector(p, o, () => this.child.stdin.write('stop\n'));
    const killer = setTimeout(() => this.child.kill('SIGKILL'), budgetMs(p));
    try {
      this.child.stdin.write(`${configOf(p, o.target)}\n`);
      await this.until((l) => c.line(l));
      return c.result();
    } finally {
      clearTimeout(killer);
      c.close();
    }
  }

  stop(): void {
    this.child.stdin.destroy();
    this.child.kill('SIGTERM');
  }
}

function parseReply(body: string): EchoReply {
  try {
    return JSON.parse(body) as EchoReply;
  } catch {
    return {};
  }
}
