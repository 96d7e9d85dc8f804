import { Then } from './support/dsl.js';
import { sampleCheckSteps, type MeshWorld, type SampleCheckStep } from './support/world.js';
import { all, atLeast, percentile, rateBand, type SampleCheck } from '../src/verdicts/sample-checks.js';
import { formatMs } from '../src/util/duration.js';
import { hasStatus, statusClaimText, statusText } from '../src/load/profile.js';
import { checkAddedLatency, checkPlaintext, checkPromCount, checkPromSuccessRate, checkSidecarCpu, checkSidecarMemory } from '../src/verdicts/session-checks.js';

/** Then steps decided from the load client's samples; the load may stop once they are all decided. */
function sampleThen(expression: string, build: (...args: never[]) => SampleCheck): void {
  const step: SampleCheckStep = { expression, build };
  sampleCheckSteps.push(step);
  Then(expression, async function (this: MeshWorld, ...args: never[]) {
    return this.verdict(this.session.judge(this.currentCheck(() => build(...args))));
  }, build.length);
}

// A status claim counts, on a gRPC data plane, the gRPC code a caller gets for that HTTP status (src/load/grpc-status.ts).
sampleThen('{percent} ± {percent} of responses have status {int}', ((p: number, tol: number, code: number) =>
  rateBand(`${p}% ± ${tol}% of responses have status ${code}`, (s) => hasStatus(s, code), (p - tol) / 100, (p + tol) / 100, (ss) => statusClaimText(ss, code))) as never);

sampleThen('all responses have status {int}', ((code: number) =>
  all(`all responses have status ${code}`, (s) => hasStatus(s, code), statusText)) as never);

sampleThen('fewer than {percent} of responses have status {int}', ((p: number, code: number) =>
  rateBand(`fewer than ${p}% of responses have status ${code}`, (s) => hasStatus(s, code), 0, p / 100, (ss) => statusClaimText(ss, code))) as never);

sampleThen('version {string} receives {percent} ± {percent} of requests', ((v: string, p: number, tol: number) =>
  rateBand(`version "${v}" receives ${p}% ± ${tol}% of requests`, (s) => s.version === v, (p - tol) / 100, (p + tol) / 100, `came from ${v}`)) as never);

sampleThen('every response comes from version {string}', ((v: string) =>
  all(`every response comes from version "${v}"`, (s) => s.version === v, (s) => (s.version ? `version ${s.version}` : `${statusText(s)} with no version`))) as never);

sampleThen('the p{int} latency is below {duration}', ((q: number, ms: number) => percentile(`the p${q} latency is below ${formatMs(ms)}`, q / 100, ms, 'below')) as never);

sampleThen('the p{int} latency is at least {duration}', ((q: number, ms: number) => percentile(`the p${q} latency is at least ${formatMs(ms)}`, q / 100, ms, 'atLeast')) as never);

sampleThen('at least {int} request(s) is/are rejected by the circuit breaker', ((n: number) =>
  atLeast(`at least ${n} request(s) rejected by the circuit breaker`, (s) => s.overloaded, n, (ss) => (ss.some((s) => s.grpc !== undefined) ? 'were rejected by the circuit breaker (gRPC UNAVAILABLE "max requests exceeded")' : 'were rejected with 503 and x-envoy-overloaded'))) as never);

Then('the plaintext call is rejected', async function (this: MeshWorld) {
  return this.verdict(checkPlaintext(this.session, true));
});

Then('the plaintext call succeeds', async function (this: MeshWorld) {
  return this.verdict(checkPlaintext(this.session, false));
});

Then('the mesh reports a success rate above {percent} for {service} over {duration}', async function (this: MeshWorld, p: number, service: string, ms: number) {
  return this.verdict(await checkPromSuccessRate(this.session, service, p / 100, ms));
});

Then('the mesh reports at least {int} responses with status {int} for {service}', async function (this: MeshWorld, n: number, code: number, service: string) {
  return this.verdict(await checkPromCount(this.session, service, code, n));
});

Then('the added p{int} latency is below {duration}', async function (this: MeshWorld, q: number, ms: number) {
  return this.verdict(checkAddedLatency(this.session, q / 100, ms));
});

Then('each sidecar uses less than {float} vCPU per 1000 rps', async function (this: MeshWorld, vcpu: number) {
  return this.verdict(checkSidecarCpu(this.session, vcpu));
});

Then('each sidecar uses less than {int} MB of memory', async function (this: MeshWorld, mb: number) {
  return this.verdict(checkSidecarMemory(this.session, mb));
});
