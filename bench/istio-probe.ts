/**
 * A quick look at the Istio tier: brings it up, prints the bring-up time and what istiod serves, applies
 * one scenario's intents, sends a load, and stops. For development (node dist/bench/istio-probe.js).
 */
import { writeFileSync } from 'node:fs';
import { Ledger } from '../src/ledger/ledger.js';
import { IstioTarget } from '../src/targets/istio/istio-target.js';
import { profile } from '../src/load/profile.js';
import { countBy } from '../src/load/result.js';
import type { Intent } from '../src/intents/types.js';

const ledger = new Ledger(`istio-probe-${process.pid}`);
ledger.record({ op: 'run', runId: ledger.runId, pid: process.pid, startedAt: new Date().toISOString() });
const t = await IstioTarget.start(ledger, (m) => process.stderr.write(`probe: ${m}\n`));
try {
  const dump = () =>
    Object.fromEntries(
      [...(t as unknown as { watch: { snapshot: Map<string, Record<string, Map<string, unknown>>> } }).watch.snapshot].map(([n, ty]) => [
        n,
        Object.fromEntries(Object.entries(ty).map(([k, m]) => [k, [...m.values()]])),
      ]),
    );
  writeFileSync('/tmp/xds-before.json', JSON.stringify(dump(), null, 1));
  const intents = JSON.parse(process.argv[2] ?? '[]') as Intent[];
  const applied = await t.apply(intents);
  process.stderr.write(`probe: applied in ${applied.convergenceMs.toFixed(0)}ms\n`);
  writeFileSync('/tmp/xds-after.json', JSON.stringify(dump(), null, 1));
  const r = await t.load(profile({ service: process.argv[3] ?? 'reviews', requests: Number(process.argv[4] ?? 200), rps: 200, caller: process.argv[5] }), { engine: 'embedded' });
  process.stderr.write(`probe: ${r.samples.length} samples; codes ${JSON.stringify(countBy(r.samples, (s) => s.grpc))}; versions ${JSON.stringify(countBy(r.samples, (s) => s.version))}; callers ${JSON.stringify(countBy(r.samples, (s) => s.caller))}; p50 ${(r.histogram.getValueAtPercentile(50) / 1000).toFixed(2)}ms\n`);
  const probe = await t.plaintextProbe('reviews');
  process.stderr.write(`probe: plaintext ${JSON.stringify(probe)}\n`);
  const t1 = performance.now();
  await applied.undo().catch((err: unknown) => {
    writeFileSync('/tmp/xds-undone.json', JSON.stringify(dump(), null, 1));
    throw err;
  });
  process.stderr.write(`probe: undone in ${(performance.now() - t1).toFixed(0)}ms\n`);
} finally {
  await t.stop();
  ledger.close();
}
