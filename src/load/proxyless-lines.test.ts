import { profile } from './profile.js';
import { proxylessResultOfLog } from './proxyless-lines.js';
import { grpcProbeResult } from '../targets/kube/proxyless-load.js';

const reply = (version: string) => JSON.stringify({ service: 'reviews', version, instance: `reviews-${version}-x`, caller: 'spiffe://cluster.local/ns/shop/sa/loadclient' });

test('a Job pod\'s log of the proxyless client becomes a LoadResult in send order; grpc-go\'s log lines between are ignored', () => {
  const log = [
    'WARNING: [xds] something grpc-go said',
    `R ${JSON.stringify([1, 40, 2100, 0, reply('v2')])}`,
    `R ${JSON.stringify([0, 30, 1800, 0, reply('v1')])}`,
    `R ${JSON.stringify([2, 50, 900, 14, 'max requests 1 exceeded'])}`,
    `R ${JSON.stringify([3, 0, 0, -1, ''])}`,
    `R ${JSON.stringify([4, 10, 500, 14, 'name resolver error: [xDS node id: sidecar~10.244.0.9~loadclient-v1-x.shop~shop.svc.cluster.local]: listener resource error'])}`,
    `DONE ${JSON.stringify({ sent: 4, dropped: 1, sendMs: 30, totalMs: 32, readyMs: 4, stoppedEarly: false })}`,
  ].join('\n');
  const r = proxylessResultOfLog(profile({ service: 'reviews', requests: 5, rps: 100 }), log, 1_000)!;
  expect(r.engine).toBe('proxyless-grpc');
  expect(r.startedAt).toBe(1_000);
  expect(r.samples.map((s) => [s.grpc, s.version, s.overloaded, s.error])).toEqual([
    [0, 'v1', false, undefined], [0, 'v2', false, undefined], [14, undefined, true, undefined],
    // Why a call failed that the mesh's policy does not explain, without the pod-specific node id.
    [14, undefined, false, 'name resolver error: listener resource error'],
  ]);
  expect(r.samples[0]!.caller).toBe('spiffe://cluster.local/ns/shop/sa/loadclient');
  expect([r.sent, r.dropped, r.durationMs]).toEqual([4, 1, 32]);
});

test('a log without the summary line is no result (the client did not finish)', () => {
  expect(proxylessResultOfLog(profile({ service: 'reviews', requests: 2 }), `R ${JSON.stringify([0, 1, 1, 0, reply('v1')])}\n`, 0)).toBeUndefined();
});

test('the plaintext probe: an instance refused the call unless it answered', () => {
  const log = [
    `PROBE ${JSON.stringify({ instance: 'reviews-v1-a', address: '10.244.0.5:9080', code: 14, message: 'connection closed before server preface received' })}`,
    `PROBE ${JSON.stringify({ instance: 'reviews-v2-b', address: '10.244.0.6:9080', code: 0, message: '{}' })}`,
  ].join('\n');
  expect(grpcProbeResult(log)).toEqual({
    attempts: 2,
    rejected: 1,
    detail: ['reviews-v1-a (10.244.0.5:9080): gRPC UNAVAILABLE: connection closed before server preface received', 'reviews-v2-b (10.244.0.6:9080): answered in plaintext'],
  });
});
