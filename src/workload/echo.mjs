// meshcheck's echo workload on a cluster: the app of every instance of the Bookinfo-shaped
// application, run by a stock Node image from a ConfigMap (no image of meshcheck's own to build or
// pull). Node's standard library only. Rendered into the workload by src/workload/echo-script.ts;
// tested as a real process by test/cluster-echo.test.ts.
//
// Two ports:
// - MESHCHECK_PORT, behind the mesh's sidecar: every reply says which service, version and instance
//   answered and which caller identity the sidecar passed on; /chain calls the upstream service
//   (through the sidecar, which intercepts the pod's outbound traffic); answers with the behaviour
//   meshcheck set (fail with a status, or be slow).
// - MESHCHECK_DIRECT_PORT, which the pod's annotations keep out of the sidecar: readiness, the
//   behaviour control (reached through the API server's pod proxy) and the same reply without any
//   behaviour, straight from the app (the overhead baseline).
// @ts-check
import http from 'node:http';

const env = (name, fallback = '') => process.env[name] ?? fallback;
const me = { service: env('MESHCHECK_SERVICE'), version: env('MESHCHECK_VERSION'), instance: env('MESHCHECK_INSTANCE') };
const port = Number(env('MESHCHECK_PORT', '9080'));
const directPort = Number(env('MESHCHECK_DIRECT_PORT', '9081'));
const upstream = env('MESHCHECK_UPSTREAM_URL');
/** @type {{ failStatus?: number, delayMs?: number }} */
let behaviour = {};
/** Requests answered with the fail status since the behaviour was last set (efficacy evidence). */
let failed = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * The caller's identity as the sidecar passed it on: the SPIFFE URI of an Envoy's
 * x-forwarded-client-cert (Istio, Consul), or Linkerd's l5d-client-id.
 * @param {http.IncomingHttpHeaders} h
 */
function callerOf(h) {
  const uri = /URI=([^;,]+)/.exec(String(h['x-forwarded-client-cert'] ?? ''))?.[1];
  if (uri) return uri;
  return h['l5d-client-id'] ? String(h['l5d-client-id']) : null;
}

/** @param {string} path */
function callUpstream(path) {
  return new Promise((resolve) => {
    const r = http.request(`${upstream}${path}`, { agent }, (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode, ...JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode, body: text });
        }
      });
    });
    r.on('error', (e) => resolve({ error: e.message }));
    r.end();
  });
}

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {{ failStatus?: number, delayMs?: number }} b
 */
async function reply(req, res, b) {
  if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
  const path = req.url ?? '/';
  const up = path.startsWith('/chain') && upstream ? await callUpstream(path) : undefined;
  const status = b.failStatus ?? 200;
  if (b.failStatus !== undefined) failed++;
  const body = JSON.stringify({ ...me, caller: callerOf(req.headers), path, upstream: up });
  res.writeHead(status, { 'content-type': 'application/json', 'x-meshcheck-version': me.version, 'x-meshcheck-instance': me.instance });
  res.end(body);
}

/** @param {http.IncomingMessage} req */
async function bodyOf(req) {
  /** @type {Buffer[]} */
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

const meshed = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  req.resume();
  void reply(req, res, behaviour);
});
meshed.keepAliveTimeout = 30_000;

const direct = http.createServer({ keepAlive: true, noDelay: true }, async (req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return void res.end('ok');
  }
  if (req.url === '/__meshcheck/behaviour') {
    const text = await bodyOf(req);
    if (req.method === 'POST') {
      try {
        const b = JSON.parse(text || '{}');
        behaviour = { ...(Number.isInteger(b.failStatus) ? { failStatus: b.failStatus } : {}), ...(b.delayMs > 0 ? { delayMs: Number(b.delayMs) } : {}) };
      } catch (e) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        return void res.end(`not JSON: ${/** @type {Error} */ (e).message}`);
      }
      failed = 0;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ ...behaviour, failed }));
  }
  req.resume();
  void reply(req, res, {});
});
direct.keepAliveTimeout = 30_000;

meshed.listen(port, () => direct.listen(directPort, () => console.log(`meshcheck echo: ${me.service} ${me.version} ${me.instance} on :${port} (meshed) and :${directPort} (direct)`)));

// A pod is stopped with SIGTERM; node as PID 1 would ignore it until the grace period ends.
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    meshed.close();
    direct.close();
    process.exit(0);
  });
}
