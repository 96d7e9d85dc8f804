import { Client, Pool, type Dispatcher } from 'undici';
import type { LoadProfile, Sample } from './profile.js';
import { generatorFigures, newHistogram, type LoadResult } from './result.js';
import { SendOrder } from './send-order.js';

export interface RunOptions {
  /** Address (host:port) of the caller's sidecar outbound listener. */
  via: string;
  /**
   * Asked every 20 responses with the responses so far in send order, up to the first request
   * still outstanding (SendOrder); true stops sending (in-flight requests still complete).
   */
  shouldStop?: (samples: readonly Sample[]) => boolean;
  /** Called about twice a second with the progress so far. */
  onProgress?: (p: { sent: number; completed: number; errors: number; rps: number }) => void;
}

/**
 * The embedded engine: an open model. Request i is due at start + i/rate; it is sent when due
 * whatever happened to earlier ones, and its latency counts from when it was due, so a slow
 * server cannot hide its slowness by delaying the sender (no coordinated omission). How late each
 * request actually left (the engine's own lag) is kept beside it.
 */
export async function runEmbedded(p: LoadProfile, opts: RunOptions): Promise<LoadResult> {
  const sender = senderFor(p, `http://${opts.via}`);
  const body = p.payloadBytes > 0 ? Buffer.alloc(p.payloadBytes, 'x') : undefined;
  const headers = { ...p.headers, host: p.service };
  const order = new SendOrder();
  const lags: number[] = [];
  const histogram = newHistogram();
  const timeline: LoadResult['timeline'] = [];
  let sent = 0;
  let dropped = 0;
  let inFlight = 0;
  let completed = 0;
  let errors = 0;
  let stop = false;
  let checkedAt = 0;
  let lastArrivalAt = 0;
  const startedAt = Date.now();
  const t0 = performance.now();
  const interval = p.rps ? 1000 / p.rps : 0;

  const record = (seq: number, s: Sample, doneAt: number) => {
    completed++;
    order.complete(seq, s);
    histogram.recordValue(Math.max(1, s.latencyUs));
    const sec = Math.floor((doneAt - t0) / 1000);
    while (timeline.length <= sec) timeline.push({ second: timeline.length, completed: 0, errors: 0 });
    timeline[sec]!.completed++;
    if (s.status < 200 || s.status >= 300) {
      timeline[sec]!.errors++;
      errors++;
    }
    if (opts.shouldStop && order.prefix.length - checkedAt >= 20) {
      checkedAt = order.prefix.length;
      if (opts.shouldStop(order.prefix)) stop = true;
    }
  };

  const fire = (seq: number, due: number) => {
    inFlight++;
    sent++;
    const lagUs = Math.round((performance.now() - due) * 1000);
    lags.push(lagUs);
    sender.send({ path: p.path, method: p.method as 'GET', headers, body }).then(
      (r) => {
        const done = performance.now();
        record(seq, { status: r.statusCode, version: versionOf(r.headers, r.text), latencyUs: Math.round((done - due) * 1000), lagUs, overloaded: r.headers['x-envoy-overloaded'] === 'true', flags: String(r.headers['x-meshcheck-response-flags'] ?? '-'), ...replyOf(r.text) }, done);
      },
      (err: Error & { code?: string }) => {
        const done = performance.now();
        record(seq, { status: 0, latencyUs: Math.round((done - due) * 1000), lagUs, overloaded: false, flags: 'NC', error: err.code ? `${err.code}: ${err.message}` : err.message }, done);
      },
    ).finally(() => inFlight--);
  };

  const progress = opts.onProgress ? setInterval(() => {
    const secs = (performance.now() - t0) / 1000;
    opts.onProgress!({ sent, completed, errors, rps: secs > 0 ? completed / secs : 0 });
  }, 500) : undefined;

  try {
    let next = 0;
    while (next < p.requests && !stop) {
      const now = performance.now();
      while (next < p.requests && t0 + next * interval <= now && !stop) {
        const due = t0 + next * interval;
        next++;
        const seq = order.arrive();
        lastArrivalAt = now;
        if (inFlight >= p.maxInFlight) {
          dropped++;
          order.drop(seq);
        } else fire(seq, due);
      }
      if (next < p.requests) {
        const wait = t0 + next * interval - performance.now();
        await new Promise((r) => (wait > 1 ? setTimeout(r, Math.min(wait - 0.5, 50)) : setImmediate(r)));
      }
    }
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 2));
  } finally {
    if (progress) clearInterval(progress);
    await sender.close();
  }
  const durationMs = performance.now() - t0;
  const generator = generatorFigures(p, { arrivals: order.arrived, dropped, completed, sendWindowMs: lastArrivalAt - t0, durationMs, lagUs: lags });
  return { engine: 'embedded', profile: p, startedAt, durationMs, sent, dropped, stoppedEarly: stop, samples: order.prefix, histogram, timeline, generator };
}

/** One answered request: what the engine reads of a response, its body read whole. */
interface Reply {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface Sender {
  send(o: Dispatcher.RequestOptions): Promise<Reply>;
  close(): Promise<void>;
}

const CONNECTION_OPTIONS = { pipelining: 1, keepAliveTimeout: 30_000 };

async function sendOn(d: Dispatcher, o: Dispatcher.RequestOptions): Promise<Reply> {
  const r = await d.request(o);
  return { statusCode: r.statusCode, headers: r.headers, text: await r.body.text() };
}

/**
 * How requests meet connections. A profile that names its connections gets exactly that many,
 * taken in turn (the next free one after the last used), as fortio spreads its calls; otherwise
 * undici's pool, which opens connections only as concurrency needs them and reuses the first free one.
 * The caller never has more than maxInFlight (= connections) requests out, so one is always free.
 */
function senderFor(p: LoadProfile, origin: string): Sender {
  if (!p.connections) {
    const pool = new Pool(origin, { ...CONNECTION_OPTIONS, connections: p.maxInFlight });
    return { send: (o) => sendOn(pool, o), close: () => pool.close() };
  }
  const conns = Array.from({ length: p.connections }, () => ({ client: new Client(origin, CONNECTION_OPTIONS), busy: false }));
  let turn = 0;
  return {
    async send(o) {
      let i = turn;
      for (let k = 0; k < conns.length && conns[i]!.busy; k++) i = (i + 1) % conns.length;
      const c = conns[i]!;
      turn = (i + 1) % conns.length;
      c.busy = true;
      try {
        return await sendOn(c.client, o);
      } finally {
        c.busy = false;
      }
    },
    close: async () => {
      await Promise.all(conns.map((c) => c.client.close()));
    },
  };
}

function versionOf(headers: Record<string, string | string[] | undefined>, text: string): string | undefined {
  const h = headers['x-meshcheck-version'];
  if (typeof h === 'string') return h;
  if (text.startsWith('{')) {
    try {
      return (JSON.parse(text) as { version?: string }).version;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A reply the data plane made itself (the echo workload answers JSON), as load/requests.js keeps it for k6. */
function replyOf(text: string): { reply?: string } {
  return text !== '' && !text.startsWith('{') ? { reply: text.slice(0, 60) } : {};
}
