import type { LoadProfile, Sample } from './profile.js';
import { generatorFigures, newHistogram, type LoadResult } from './result.js';
import { SendOrder } from './send-order.js';

/**
 * The output of meshcheck's proxyless gRPC load client (go/proxyless: `meshcheck-proxyless load`), one
 * line per arrival and a summary at the end, read as it comes (a local process's stdout) or afterwards
 * (a Job pod's log); both targets that run it turn it into a LoadResult here.
 */

export interface CollectorOptions {
  /** When the load started (epoch ms), if not when the collector was made (a Job's log is read after the load). */
  startedAt?: number;
  shouldStop?: (samples: readonly Sample[]) => boolean;
  onProgress?: (p: { sent: number; completed: number; errors: number; rps: number }) => void;
  /** Called once, when the first call's line arrives: the load is under way. */
  onFirstCall?: () => void;
}

type Line = [seq: number, lagUs: number, latencyUs: number, code: number, body: string];

/** The echo workload's message when meshcheck told it to fail (go/proxyless/echo.go). */
const TOLD_TO_FAIL = /^meshcheck: instance \S+ told to fail$/;

/** A gRPC reply from meshcheck's echo workload. */
interface EchoReply { service?: string; version?: string; instance?: string; caller?: string }

/** Turns the client's lines (R per arrival, DONE at the end) into a LoadResult, in send order. */
export class Collector {
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
  private readonly startedAt: number;
  private readonly progress?: NodeJS.Timeout;
  done?: { sent: number; dropped: number; sendMs: number; totalMs: number; readyMs: number; stoppedEarly: boolean };

  constructor(private readonly p: LoadProfile, private readonly o: CollectorOptions = {}, private readonly stop: () => void = () => undefined) {
    this.startedAt = o.startedAt ?? Date.now();
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
    if (!this.t0) {
      this.t0 = performance.now();
      this.o.onFirstCall?.();
    }
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
    // grpc-go's circuit breaker (DestinationRule http2MaxRequests) fails a call UNAVAILABLE with this message.
    const overloaded = code === 14 && /^max requests \d+ exceeded/.test(body);
    const injected = code !== 0 && body === 'RPC terminated due to fault injection';
    const s: Sample = {
      status: code === 0 ? 200 : 0, grpc: code, version: reply.version, caller: reply.caller, latencyUs, lagUs, overloaded,
      flags: injected ? 'FI' : '-',
      // Why a call failed that neither the mesh's policy nor the workload explains (a refused connection, no config).
      // grpc-go puts the xDS node's id (pod name and address) in front of its messages: left out, so alike errors count together.
      ...(code > 0 && !overloaded && !injected && !TOLD_TO_FAIL.test(body) ? { error: body.replace(/\[xDS node id: [^\]]*\]:? ?/g, '').slice(0, 300) } : {}),
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

/** The client's config for one load: `extra` adds what a pod needs (detached, quitUrl). */
export function configOf(p: LoadProfile, target: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ target, rps: p.rps ?? 0, requests: p.requests, maxInFlight: p.maxInFlight, headers: p.headers, ...extra });
}

/**
 * A whole run of the client read afterwards (a Job pod's log): its LoadResult, or undefined when the
 * log has no DONE line (the client did not finish).
 */
export function proxylessResultOfLog(p: LoadProfile, log: string, startedAt: number): LoadResult | undefined {
  const c = new Collector(p, { startedAt });
  for (const line of log.split('\n')) if (c.line(line)) return c.result();
  return undefined;
}

function parseReply(body: string): EchoReply {
  try {
    return JSON.parse(body) as EchoReply;
  } catch {
    return {};
  }
}
