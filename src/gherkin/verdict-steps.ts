import { all, atLeast, type SampleCheck } from '../verdicts/sample-checks.js';
import { rateBand, rateBelow } from '../verdicts/rate-checks.js';
import { percentile } from '../verdicts/latency-checks.js';
import { checkAddedLatency, checkPlaintext, checkPromCount, checkPromSuccessRate, checkSidecarCpu, checkSidecarMemory } from '../verdicts/observed-checks.js';
import type { SampleReading } from '../load/reading.js';
import { formatMs } from '../util/duration.js';
import type { StepDef } from './step-def.js';

/** A Then step decided from the load client's samples: built ahead, so the load may stop once it is decided. */
function sampleStep(expression: string, check: (r: SampleReading, args: unknown[]) => SampleCheck): StepDef {
  return { keyword: 'Then', expression, sampleCheck: check, run: async (s, args, c) => ({ verdict: s.judge(c.prebuilt ?? check(s.reading, args)) }) };
}

const band = (p: unknown, tol: unknown): [number, number] => [((p as number) - (tol as number)) / 100, ((p as number) + (tol as number)) / 100];

/** Claims decided from what the load client saw. A status claim counts what the target's reading counts for it (the gRPC code a caller gets, on gRPC). */
export const SAMPLE_STEPS: readonly StepDef[] = [
  sampleStep('{percent} ± {percent} of responses have status {int}', (r, [p, tol, code]) =>
    rateBand(`${p}% ± ${tol}% of responses have status ${code}`, (x) => r.hasStatus(x, code as number), ...band(p, tol), r.statusClaimText(code as number))),
  sampleStep('all responses have status {int}', (r, [code]) =>
    all(`all responses have status ${code}`, (x) => r.hasStatus(x, code as number), r.statusText, r.answered)),
  sampleStep('fewer than {percent} of responses have status {int}', (r, [p, code]) =>
    rateBelow(`fewer than ${p}% of responses have status ${code}`, (x) => r.hasStatus(x, code as number), (p as number) / 100, r.statusClaimText(code as number))),
  sampleStep('version {string} receives {percent} ± {percent} of requests', (_r, [v, p, tol]) =>
    rateBand(`version "${v}" receives ${p}% ± ${tol}% of requests`, (x) => x.version === v, ...band(p, tol), `came from ${v}`)),
  sampleStep('every response comes from version {string}', (r, [v]) =>
    all(`every response comes from version "${v}"`, (x) => x.version === v, (x) => (x.version ? `version ${x.version}` : `${r.statusText(x)} with no version`), r.answered)),
  sampleStep('the p{int} latency is below {duration}', (_r, [q, ms]) => percentile(`the p${q} latency is below ${formatMs(ms as number)}`, (q as number) / 100, ms as number, 'below')),
  sampleStep('the p{int} latency is at least {duration}', (_r, [q, ms]) => percentile(`the p${q} latency is at least ${formatMs(ms as number)}`, (q as number) / 100, ms as number, 'atLeast')),
  sampleStep('at least {int} request(s) is/are rejected by the circuit breaker', (r, [n]) =>
    atLeast(`at least ${n} request(s) rejected by the circuit breaker`, (x) => x.overloaded, n as number, r.overloadedText)),
];

/** Claims decided from what the scenario observed beside the samples: the probe, the mesh's metrics, the overhead run. */
export const OBSERVED_STEPS: readonly StepDef[] = [
  { keyword: 'Then', expression: 'the plaintext call is rejected', run: async (s) => ({ verdict: checkPlaintext(s, true) }) },
  { keyword: 'Then', expression: 'the plaintext call succeeds', run: async (s) => ({ verdict: checkPlaintext(s, false) }) },
  {
    keyword: 'Then', expression: 'the mesh reports a success rate above {percent} for {service} over {duration}', needs: 'mesh-metrics',
    run: async (s, [p, service, ms]) => ({ verdict: await checkPromSuccessRate(s, service as string, (p as number) / 100, ms as number) }),
  },
  {
    keyword: 'Then', expression: 'the mesh reports at least {int} responses with status {int} for {service}', needs: 'mesh-metrics',
    run: async (s, [n, code, service]) => ({ verdict: await checkPromCount(s, service as string, code as number, n as number) }),
  },
  { keyword: 'Then', expression: 'the added p{int} latency is below {duration}', run: async (s, [q, ms]) => ({ verdict: checkAddedLatency(s, (q as number) / 100, ms as number) }) },
  { keyword: 'Then', expression: 'each sidecar uses less than {float} vCPU per 1000 rps', needs: 'sidecar-usage', run: async (s, [vcpu]) => ({ verdict: checkSidecarCpu(s, vcpu as number) }) },
  { keyword: 'Then', expression: 'each sidecar uses less than {int} MB of memory', needs: 'sidecar-usage', run: async (s, [mb]) => ({ verdict: checkSidecarMemory(s, mb as number) }) },
];
