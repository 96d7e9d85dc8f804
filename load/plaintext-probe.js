// meshcheck's plaintext probe, as k6 runs it in a cluster: one plain HTTP request (no mTLS) straight
// to each instance's pod address, past any route, from outside the mesh; one marked line per instance
// on k6's console (its status, or the error when no HTTP response came back: a sidecar under STRICT
// mTLS refuses the plaintext connection). By hand:
//
//   k6 run --log-format raw -e MESHCHECK_SERVICE=reviews \
//     -e 'MESHCHECK_TARGETS=[{"instance":"reviews-v1-0","address":"10.244.0.7:9080"}]' load/plaintext-probe.js
import http from 'k6/http';

export const options = { vus: 1, iterations: 1 };
const service = __ENV.MESHCHECK_SERVICE || 'reviews';
const targets = JSON.parse(__ENV.MESHCHECK_TARGETS || '[]');

export default function () {
  for (const t of targets) {
    const res = http.get('http://' + t.address + '/', { headers: { Host: service }, timeout: '5s', responseType: 'text' });
    console.log('MESHCHECK_PROBE ' + JSON.stringify({ instance: t.instance, status: res.status, error: res.error || '' }));
  }
}

// No end-of-test summary: the log holds only the marked lines.
export function handleSummary() { return {}; }
