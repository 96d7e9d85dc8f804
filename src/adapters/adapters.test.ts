import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTERS, adapterFor, appContext } from './registry.js';
import { EXAMPLE_INTENTS, VERSION_VARIANTS } from './examples.js';
import { describeSupport, toYaml } from '../plan/plan.js';
import { PATCH_ANNOTATION } from './common.js';
import { INTENT_KINDS } from '../intents/types.js';

const GOLDENS = join(process.cwd(), 'test', 'goldens');
const UPDATE = process.env.UPDATE_GOLDENS === '1';
const specs = [...ADAPTERS.map((a) => a.name), ...VERSION_VARIANTS];

/** The golden text of one rendering: the support line, then the manifests. */
function golden(spec: string, intentIndex: number): string {
  const { adapter, version } = adapterFor(spec);
  const r = adapter.render(EXAMPLE_INTENTS[intentIndex]!.intent, appContext('shop', version));
  return `# ${adapter.title} ${version}: ${describeSupport(r.intents[0]!.support)}\n${toYaml(r.objects) || '# (no objects)\n'}`;
}

describe.each(specs)('%s renders every example intent as its golden file', (spec) => {
  test.each(EXAMPLE_INTENTS.map((e, i) => [e.name, i] as const))('%s', (name, i) => {
    const file = join(GOLDENS, spec, `${name}.yaml`);
    const text = golden(spec, i);
    if (UPDATE || !existsSync(file)) {
      if (!UPDATE) throw new Error(`no golden file ${file}; run UPDATE_GOLDENS=1 npm run test:unit and review it`);
      mkdirSync(join(GOLDENS, spec), { recursive: true });
      writeFileSync(file, text);
    }
    expect(text).toBe(readFileSync(file, 'utf8'));
  });
});

describe('adapters', () => {
  test('every adapter answers support() for every intent kind, with a reason or a how', () => {
    for (const a of ADAPTERS) {
      for (const kind of INTENT_KINDS) {
        const ex = EXAMPLE_INTENTS.find((e) => e.intent.kind === kind)!;
        const s = a.support(ex.intent);
        const text = s.level === 'native' ? s.via : s.level === 'emulated' ? s.how : s.reason;
        expect(text.length).toBeGreaterThan(10);
      }
    }
  });

  test('a supported or emulated intent renders objects, unless the mesh needs none for it', () => {
    // Cases where "nothing to apply" is the honest answer, each with its reason in support().
    const nothingNeeded = new Set(['osm/mtls-strict-service', 'osm/mtls-strict-namespace', 'osm/retry-off', 'linkerd/retry-off']);
    for (const a of ADAPTERS) {
      for (const e of EXAMPLE_INTENTS) {
        const r = a.render(e.intent, appContext('shop', a.defaultVersion));
        if (r.intents[0]!.support.level === 'unsupported') expect(r.objects).toEqual([]);
        else if (!nothingNeeded.has(`${a.name}/${e.name}`)) expect(r.objects.length).toBeGreaterThan(0);
      }
    }
  });

  test('objects carry the managed-by label and the run id; patches of existing objects are marked', () => {
    const { adapter, version } = adapterFor('consul');
    const r = adapter.render(EXAMPLE_INTENTS.map((e) => e.intent), appContext('shop', version, 'run-1'));
    for (const o of r.objects) {
      if (o.metadata.annotations?.[PATCH_ANNOTATION]) continue;
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'meshcheck', 'meshcheck.io/run-id': 'run-1' });
    }
  });

  test("Istio turns its default retries off on every route unless a retry policy is stated", () => {
    const { adapter, version } = adapterFor('istio');
    for (const e of EXAMPLE_INTENTS.filter((x) => ['FaultAbort', 'FaultDelay', 'TrafficSplit', 'HeaderRoute', 'Timeout'].includes(x.intent.kind))) {
      const vs = adapter.render(e.intent, appContext('shop', version)).objects.find((o) => o.kind === 'VirtualService') as { spec: { http: { retries: unknown }[] } };
      for (const route of vs.spec.http) expect(route.retries).toEqual({ attempts: 0 });
    }
  });

  test('intents of one scenario on the same service merge into one object per kind and name', () => {
    const { adapter, version } = adapterFor('istio');
    const r = adapter.render([
      { kind: 'OutlierDetection', service: 'reviews', consecutive5xx: 3, baseEjectionMs: 30_000, intervalMs: 10_000, maxEjectionPercent: 10 },
      { kind: 'ConnectionPool', service: 'reviews', maxConnections: 1, maxPendingRequests: 1 },
      { kind: 'Retry', service: 'reviews', attempts: 0, retryOn: ['5xx'] },
    ], appContext('shop', version));
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['DestinationRule/reviews', 'VirtualService/reviews']);
    expect((r.objects[0] as { spec: { trafficPolicy: object } }).spec.trafficPolicy).toHaveProperty('connectionPool');
    expect((r.objects[0] as { spec: { trafficPolicy: object } }).spec.trafficPolicy).toHaveProperty('outlierDetection');
  });

  test('fractional percentages become integer weights in the same proportion where a mesh needs integers', () => {
    const { adapter, version } = adapterFor('linkerd');
    const r = adapter.render({ kind: 'FaultAbort', service: 'reviews', percent: 12.5, httpStatus: 500 }, appContext('shop', version));
    const route = r.objects.find((o) => o.kind === 'HTTPRoute') as { spec: { rules: { backendRefs: { weight: number }[] }[] } };
    expect(route.spec.rules[0]!.backendRefs.map((b) => b.weight)).toEqual([125, 875]);
  });

  test('workload shape: one Service per version for Linkerd and OSM, subsets for Istio and Consul', () => {
    const services = (spec: string) => { const { adapter, version } = adapterFor(spec); return adapter.workload(appContext('shop', version)).filter((o) => o.kind === 'Service').map((o) => o.metadata.name); };
    expect(services('linkerd')).toEqual(expect.arrayContaining(['reviews', 'reviews-v1', 'reviews-v2', 'reviews-v3']));
    expect(services('osm')).toEqual(expect.arrayContaining(['reviews', 'reviews-v1', 'reviews-v2', 'reviews-v3']));
    expect(services('istio')).not.toContain('reviews-v1');
    expect(services('consul')).not.toContain('reviews-v1');
  });

  test('bad --mesh values are usage errors naming the option', () => {
    expect(() => adapterFor('kuma')).toThrow(/--mesh kuma: unknown mesh/);
    expect(() => adapterFor('istio@1.9')).toThrow(/--mesh istio@1.9: meshcheck knows Istio 1.20 to 1.30/);
    expect(() => adapterFor('istio@latest')).toThrow(/not MAJOR.MINOR/);
  });
});
