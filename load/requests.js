// meshcheck's load, as k6 runs it: one k6 process's share of a load (a LoadProfile, src/load/profile.ts).
// Every setting comes from the environment, so it runs by hand as it runs for meshcheck:
//
//   k6 run -e MESHCHECK_URL=http://127.0.0.1:15001 -e MESHCHECK_SERVICE=reviews \
//          -e MESHCHECK_REQUESTS=200 -e MESHCHECK_RPS=100 load/requests.js
//
//   MESHCHECK_URL             where requests go (a caller's sidecar, or a workload), without the path
//   MESHCHECK_SERVICE         the destination service: the Host header, and the meshcheck_service tag
//   MESHCHECK_REQUESTS        the budget: at most this many requests (default 100)
//   MESHCHECK_RPS             constant arrival rate; unset or 0 = every request at once
//   MESHCHECK_MAX_IN_FLIGHT   at most this many requests in flight (default 512)
//   MESHCHECK_METHOD, MESHCHECK_PATH, MESHCHECK_PAYLOAD_BYTES   the request (default GET /, no body)
//   MESHCHECK_HEADERS         request headers as a JSON object, e.g. {"end-user":"jason"}
//   MESHCHECK_THRESHOLDS      k6 thresholds as JSON, e.g. {"meshcheck_latency":["p(99)<50"]}
//   MESHCHECK_SUMMARY         the end-of-test summary: "stdout" (one marked line, in a pod's log), a
//                             file, or unset (a short line for a person)
//
// Each request is one point of the meshcheck_latency metric with what meshcheck judges it by (status,
// answering version, overload, sidecar flags, when it was sent); meshcheck reads the points from k6's
// JSON output (src/load/k6.ts) and merges several k6 processes request by request.
import http from 'k6/http';
import exec from 'k6/execution';
import { Trend } from 'k6/metrics';

const env = (name, fallback) => (__ENV[name] === undefined || __ENV[name] === '' ? fallback : __ENV[name]);
const url = env('MESHCHECK_URL', 'http://127.0.0.1:15001');
const service = env('MESHCHECK_SERVICE', 'reviews');
const requests = Number(env('MESHCHECK_REQUESTS', '100'));
const rps = Number(env('MESHCHECK_RPS', '0'));
const maxInFlight = Number(env('MESHCHECK_MAX_IN_FLIGHT', '512'));
const payloadBytes = Number(env('MESHCHECK_PAYLOAD_BYTES', '0'));
const summary = env('MESHCHECK_SUMMARY', '');

// Arrivals start at 0, 1/rate, 2/rate, ...; whether k6 starts one more at the window's end depends on
// timing, so each arrival past the budget is skipped. k6 needs a window of at least 1s: a shorter
// budget is sent at the asked rate in a 1s window whose arrivals past the budget are skipped (it was
// spread over the second before, which sent 150 requests asked at 500 rps at 150 rps).
const windowMs = rps ? Math.max(1000, Math.ceil((requests * 1000) / rps)) : 0;
const scenario = rps
  ? Object.assign(
    { executor: 'constant-arrival-rate' },
    { rate: rps, timeUnit: '1s', duration: `${windowMs}ms` },
    // VUs for 100 ms of arrivals, each with its own keep-alive connection: enough at loopback latencies
    // and for injected delays of that order; k6 adds more (up to the in-flight limit) when responses
    // slow down, but a VU started mid-run comes too late for the arrivals that needed it (dropped).
    { preAllocatedVUs: Math.min(maxInFlight, Math.max(5, Math.ceil(rps / 10))), maxVUs: maxInFlight, gracefulStop: '30s' },
  )
  : { executor: 'shared-iterations', vus: Math.max(1, Math.min(requests, maxInFlight)), iterations: requests, maxDuration: '5m' };

export const options = {
  scenarios: { load: scenario },
  thresholds: JSON.parse(env('MESHCHECK_THRESHOLDS', '{}')),
  summaryTrendStats: ['min', 'med', 'p(90)', 'p(99)', 'max', 'count'],
  tags: { meshcheck_service: service },
  // Only what meshcheck reads: fewer system tags keep the per-request output small.
  systemTags: ['status', 'error'],
};

// One point per request: its latency and what meshcheck needs to judge it.
const latency = new Trend('meshcheck_latency', true);
const params = { headers: Object.assign(JSON.parse(env('MESHCHECK_HEADERS', '{}')), { Host: service }), responseType: 'text', timeout: '60s' };
const body = payloadBytes > 0 ? 'x'.repeat(payloadBytes) : null;
const target = url + env('MESHCHECK_PATH', '/');
const method = env('MESHCHECK_METHOD', 'GET');

// How much of a data plane's own reply is kept: enough for Envoy's local replies, few distinct tags.
const REPLY_CHARS = 60;

function versionOf(res) {
  const h = res.headers['X-Meshcheck-Version'];
  if (h) return h;
  if (typeof res.body === 'string' && res.body.startsWith('{')) {
    try { return JSON.parse(res.body).version || ''; } catch (e) { return ''; }
  }
  return '';
}

export default function () {
  if (exec.scenario.iterationInTest >= requests) return; // past the budget
  const sentAt = Date.now();
  const res = http.request(method, target, body, params);
  const t = res.timings;
  // Waiting for a connection (blocked) and connecting count, as they do in the embedded engine.
  latency.add(t.blocked + t.connecting + t.duration, {
    status: String(res.status),
    version: versionOf(res),
    overloaded: String(res.headers['X-Envoy-Overloaded'] === 'true'),
    flags: res.headers['X-Meshcheck-Response-Flags'] || (res.status === 0 ? 'NC' : '-'),
    // Why no response came back (a refused connection, a name that did not resolve), for the verdict.
    ...(res.status === 0 && res.error ? { failure: res.error } : {}),
    // A reply the data plane made itself (the echo workload answers JSON): how an Envoy fault shows.
    ...(res.status !== 0 && typeof res.body === 'string' && res.body !== '' && !res.body.startsWith('{') ? { reply: res.body.slice(0, REPLY_CHARS) } : {}),
    // When the request left, so meshcheck can put responses in send order.
    sent: String(sentAt),
  });
}

export function handleSummary(data) {
  if (summary === 'stdout') return { stdout: `MESHCHECK_K6_SUMMARY ${JSON.stringify(data)}\n` };
  if (summary) return { [summary]: JSON.stringify(data) };
  const l = data.metrics.meshcheck_latency;
  const dropped = data.metrics.dropped_iterations ? data.metrics.dropped_iterations.values.count : 0;
  return { stdout: l ? `meshcheck: ${l.values.count} requests to ${service}, p50 ${l.values.med.toFixed(2)} ms, p99 ${l.values['p(99)'].toFixed(2)} ms, ${dropped} dropped\n` : `meshcheck: no requests to ${service}\n` };
}
