import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appContext, dataPlaneOf } from '../../meshes/registry.js';
import type { Intent } from '../../intents/types.js';
import { appliedPredicates, servedEvidence, servedState, type ServedContext } from './served.js';

const istioProxyless = dataPlaneOf('istio', 'proxyless gRPC');
import type { Resource, XdsType, XdsWatch } from './xds-watch.js';

/*
 * What istiod 1.31 served a proxyless client and the reviews servers, captured on this machine
 * (bench/istio-probe.ts) before and after these intents were applied; addresses normalised.
 */
const FIXTURE = JSON.parse(readFileSync(join(process.cwd(), 'src', 'targets', 'istio', 'testdata', 'served-xds.json'), 'utf8')) as Record<'before' | 'after', Record<string, Partial<Record<XdsType, Resource[]>>>>;
const INTENTS: Intent[] = [
  { kind: 'TrafficSplit', service: 'reviews', weights: [{ version: 'v1', weight: 80 }, { version: 'v2', weight: 20 }] },
  { kind: 'FaultAbort', service: 'ratings', percent: 30, httpStatus: 503 },
  { kind: 'Timeout', service: 'productpage', timeoutMs: 100 },
  { kind: 'Authorization', service: 'reviews', allowFrom: ['productpage'] },
  { kind: 'MtlsMode', service: 'reviews', mode: 'STRICT' },
];

function watchOf(nodes: Record<string, Partial<Record<XdsType, Resource[]>>>): XdsWatch {
  const snapshot = new Map([...Object.entries(nodes)].map(([n, t]) => [n, {
    lds: new Map((t.lds ?? []).map((r) => [String(r.name), r])), rds: new Map((t.rds ?? []).map((r) => [String(r.name), r])),
    cds: new Map((t.cds ?? []).map((r) => [String(r.name), r])), eds: new Map<string, Resource>(),
  }]));
  return { snapshot, of: (node: string, type: XdsType) => [...(snapshot.get(node)?.[type].values() ?? [])] } as unknown as XdsWatch;
}

const ctx: ServedContext = { namespace: 'meshcheck', port: 9080, client: 'client', instancesOf: (s) => (s === 'reviews' ? ['reviews-v1-0', 'reviews-v2-0', 'reviews-v3-0'] : []) };
const objects = istioProxyless.render(INTENTS, appContext('meshcheck', '1.31')).objects;

describe('what istiod serves shows the applied policy', () => {
  test('after the apply, every condition holds', () => {
    const w = watchOf(FIXTURE.after);
    const checks = appliedPredicates(objects, ctx);
    expect(checks.filter((c) => !c.holds(w)).map((c) => c.what)).toEqual([]);
    expect(checks.map((c) => c.what)).toEqual(expect.arrayContaining([
      'abort fault on the route to ratings', 'timeout on the route to productpage', 'the route to subset v2 of reviews',
      'RBAC filter on the inbound listeners of reviews', 'STRICT mTLS on the inbound listeners of reviews', 'mTLS to reviews',
    ]));
  });

  test('before it, the policy-carrying conditions do not hold, so the wait cannot end early', () => {
    const w = watchOf(FIXTURE.before);
    const failing = appliedPredicates(objects, ctx).filter((c) => !c.holds(w)).map((c) => c.what);
    expect(failing).toEqual(expect.arrayContaining(['abort fault on the route to ratings', 'timeout on the route to productpage', 'the route to subset v1 of reviews', 'the route to subset v2 of reviews', 'RBAC filter on the inbound listeners of reviews']));
  });

  test('the served state changes with the policy and the evidence carries it', () => {
    expect(servedState(watchOf(FIXTURE.before))).not.toEqual(servedState(watchOf(FIXTURE.after)));
    const ev = JSON.stringify(servedEvidence(watchOf(FIXTURE.after), INTENTS, ctx));
    expect(ev).toMatch(/"abort":\{"httpStatus":503,"percentage":\{"denominator":"MILLION","numerator":300000\}\}/);
    expect(ev).toMatch(/weightedClusters/);
    expect(ev).toMatch(/envoy\.filters\.http\.rbac/);
  });
});

test('a version given weight 0 is expected absent from the route, as istiod serves it (not waited for in vain)', () => {
  const split: Intent[] = [{ kind: 'TrafficSplit', service: 'reviews', weights: [{ version: 'v1', weight: 80 }, { version: 'v2', weight: 20 }, { version: 'v3', weight: 0 }] }];
  const rendered = istioProxyless.render(split, appContext('meshcheck', '1.31')).objects;
  const checks = appliedPredicates(rendered, ctx).filter((c) => c.what.includes('subset'));
  expect(checks.map((c) => c.what)).toEqual(['the route to subset v1 of reviews', 'the route to subset v2 of reviews', 'no route to subset v3 of reviews (weight 0)']);
  // What istiod served for the 80/20 split (v3 nowhere in the route): every condition holds.
  expect(checks.filter((c) => !c.holds(watchOf(FIXTURE.after))).map((c) => c.what)).toEqual([]);
  // Before the split there is no weighted route: the wait does not end early.
  expect(checks.filter((c) => !c.holds(watchOf(FIXTURE.before))).map((c) => c.what)).toEqual(['the route to subset v1 of reviews', 'the route to subset v2 of reviews']);
});
