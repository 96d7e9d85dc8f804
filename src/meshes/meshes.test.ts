import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MESHES, meshFor, appContext } from './registry.js';
import { istioProxyless } from './istio/proxyless.js';
import { EXAMPLE_COMBINATIONS, EXAMPLE_INTENTS, VERSION_VARIANTS } from './examples.js';
import { describeIntent } from '../intents/describe.js';
import { describeSupport } from './support.js';
import { toYaml } from '../util/yaml.js';
import { type Intent, INTENT_KINDS } from '../intents/types.js';
import { type K8sObject, PATCH_ANNOTATION } from '../kube/objects.js';
import type { Support } from './types.js';
import { unsupportedOf } from '../session/capability.js';
import { ECHO_CONFIGMAP } from './render/workload.js';
import { IMAGES, imageRef } from '../kube/images.js';
import { ECHO_SCRIPT_FILE } from '../workload/echo-script.js';

const GOLDENS = join(process.cwd(), 'test', 'goldens');
const UPDATE = process.env.UPDATE_GOLDENS === '1';
const specs = [...MESHES.map((a) => a.name), ...VERSION_VARIANTS];

/** The golden text of one rendering: the support line (one per intent for a combination), then the manifests. */
function golden(spec: string, intents: Intent[]): string {
  const { mesh: adapter, version } = meshFor(spec);
  const r = adapter.render(intents, appContext('shop', version));
  const head = r.intents.length === 1 ? [`# ${adapter.title} ${version}: ${describeSupport(r.intents[0]!.support)}`]
    : [`# ${adapter.title} ${version}:`, ...r.intents.map((i) => `# - ${describeIntent(i.intent)}: ${describeSupport(i.support)}`)];
  return `${head.join('\n')}\n${toYaml(r.objects) || '# (no objects)\n'}`;
}

/** The spec of a rendered object, typed as the test expects it. */
function specOf<T>(o: K8sObject | undefined): T {
  expect(o).toBeDefined();
  return (o as unknown as { spec: T }).spec;
}

const examples = [...EXAMPLE_INTENTS.map((e) => ({ name: e.name, intents: [e.intent] })), ...EXAMPLE_COMBINATIONS];

describe.each(specs)('%s renders every example intent and combination as its golden file', (spec) => {
  test.each(examples.map((e) => [e.name, e.intents] as const))('%s', (name, intents) => {
    const file = join(GOLDENS, spec, `${name}.yaml`);
    const text = golden(spec, intents);
    if (UPDATE || !existsSync(file)) {
      if (!UPDATE) throw new Error(`no golden file ${file}; run UPDATE_GOLDENS=1 npm run test:unit and review it`);
      mkdirSync(join(GOLDENS, spec), { recursive: true });
      writeFileSync(file, text);
    }
    expect(text).toBe(readFileSync(file, 'utf8'));
  });
});

describe('adapters', () => {
  test("no container meshcheck renders has the name of a mesh's sidecar (a pod with two containers of one name is invalid: OSM's injector adds \"envoy\")", () => {
    const sidecars = MESHES.map((a) => a.sidecar?.container).filter((c): c is string => !!c);
    expect(sidecars).toContain('envoy');
    for (const a of MESHES) {
      const ctx = appContext('shop', a.defaultVersion);
      const rendered = [...EXAMPLE_INTENTS.map((e) => [e.intent]), ...EXAMPLE_COMBINATIONS.map((e) => e.intents)].flatMap((intents) => a.render(intents, ctx).objects);
      const objects = [...a.workload(ctx), ...rendered];
      const names = objects.filter((o) => o.kind === 'Deployment').flatMap((o) => (o.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers.map((c) => c.name));
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) expect(sidecars).not.toContain(n);
    }
  });

  test('every adapter answers support() for every intent kind, with a reason or a how', () => {
    for (const a of MESHES) {
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
    for (const a of MESHES) {
      for (const e of EXAMPLE_INTENTS) {
        const r = a.render(e.intent, appContext('shop', a.defaultVersion));
        if (r.intents[0]!.support.level === 'unsupported') expect(r.objects).toEqual([]);
        else if (!nothingNeeded.has(`${a.name}/${e.name}`)) expect(r.objects.length).toBeGreaterThan(0);
      }
    }
  });

  test('objects carry the managed-by label and the run id; patches of existing objects are marked', () => {
    const { mesh: adapter, version } = meshFor('consul');
    const r = adapter.render(EXAMPLE_INTENTS.map((e) => e.intent), appContext('shop', version, 'run-1'));
    for (const o of r.objects) {
      if (o.metadata.annotations?.[PATCH_ANNOTATION]) continue;
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'meshcheck', 'meshcheck.io/run-id': 'run-1' });
    }
  });

  test("Istio turns its default retries off on every route unless a retry policy is stated", () => {
    const { mesh: adapter, version } = meshFor('istio');
    for (const e of EXAMPLE_INTENTS.filter((x) => ['FaultAbort', 'FaultDelay', 'TrafficSplit', 'HeaderRoute', 'Timeout'].includes(x.intent.kind))) {
      const vs = specOf<{ http: { retries: unknown }[] }>(adapter.render(e.intent, appContext('shop', version)).objects.find((o) => o.kind === 'VirtualService'));
      for (const route of vs.http) expect(route.retries).toEqual({ attempts: 0 });
    }
  });

  test('Istio: every service of the app has a route with retries off unless the scenario states a retry policy', () => {
    // With no VirtualService, Istio's default policy (2 retries on unavailable, ...) applies, proxyless too.
    const { mesh: adapter, version } = meshFor('istio');
    const ctx = appContext('shop', version);
    for (const intents of [[], [{ kind: 'Authorization', service: 'reviews', allowFrom: ['productpage'] }], [{ kind: 'MtlsMode', mode: 'STRICT' }]] as Intent[][]) {
      const routes = adapter.render(intents, ctx).objects.filter((o) => o.kind === 'VirtualService');
      expect(routes.map((o) => o.metadata.name).sort()).toEqual(ctx.services.map((s) => s.name).sort());
      for (const vs of routes) for (const route of specOf<{ http: { retries: unknown }[] }>(vs).http) expect(route.retries).toEqual({ attempts: 0 });
    }
  });

  test('"ejects a host" renders a max-ejection cap that lets one host of the service go on current Envoy', () => {
    // Envoy ejects only if 100 x (ejected + 1) / hosts <= cap, the first ejection included.
    const hostsOf = (ctx: ReturnType<typeof appContext>, s: string) => ctx.services.find((x) => x.name === s)!.versions.length;
    for (const spec of ['istio', 'consul']) {
      const { mesh: adapter, version } = meshFor(spec);
      const ctx = appContext('shop', version);
      const text = JSON.stringify(adapter.render({ kind: 'OutlierDetection', service: 'reviews', consecutive5xx: 3, baseEjectionMs: 30_000, intervalMs: 10_000 }, ctx).objects);
      const cap = Number(/"maxEjectionPercent":(\d+)/.exec(text)?.[1]);
      const hosts = hostsOf(ctx, 'reviews');
      expect(100 / hosts).toBeLessThanOrEqual(cap);
      expect(200 / hosts).toBeGreaterThan(cap);
      // A stated cap is rendered as stated.
      expect(JSON.stringify(adapter.render({ kind: 'OutlierDetection', service: 'reviews', consecutive5xx: 3, baseEjectionMs: 30_000, intervalMs: 10_000, maxEjectionPercent: 50 }, ctx).objects)).toContain('"maxEjectionPercent":50');
    }
  });

  test('Istio proxyless gRPC: tls ISTIO_MUTUAL to every service (auto-mTLS does not reach proxyless clients)', () => {
    const ctx = appContext('shop', istioProxyless.defaultVersion);
    for (const intents of [[], [{ kind: 'TrafficSplit', service: 'reviews', weights: [{ version: 'v1', weight: 80 }, { version: 'v2', weight: 20 }] }]] as Intent[][]) {
      const drs = istioProxyless.render(intents, ctx).objects.filter((o) => o.kind === 'DestinationRule');
      expect(drs.map((o) => o.metadata.name).sort()).toEqual(ctx.services.map((s) => s.name).sort());
      for (const dr of drs) expect(specOf<{ trafficPolicy: { tls: unknown } }>(dr).trafficPolicy.tls).toEqual({ mode: 'ISTIO_MUTUAL' });
    }
    // The sidecar data plane leaves mTLS to auto-mTLS: no DestinationRule without a reason.
    expect(meshFor('istio').mesh.render([], appContext('shop', '1.30')).objects.filter((o) => o.kind === 'DestinationRule')).toEqual([]);
  });

  test('Istio proxyless gRPC: what istiod does not translate for it is NOT_SUPPORTED, with the measured reason', () => {
    const level = (i: Intent) => istioProxyless.support(i);
    expect(level({ kind: 'OutlierDetection', service: 'reviews', consecutive5xx: 3, baseEjectionMs: 30_000, intervalMs: 10_000 })).toMatchObject({ level: 'unsupported', reason: expect.stringMatching(/no outlier detection in CDS/) });
    expect(level({ kind: 'ConnectionPool', service: 'reviews', maxConnections: 1, maxPendingRequests: 1 })).toMatchObject({ level: 'unsupported', reason: expect.stringMatching(/http2MaxRequests/) });
    expect(level({ kind: 'MtlsMode', mode: 'PERMISSIVE' })).toMatchObject({ level: 'unsupported' });
    expect(level({ kind: 'MtlsMode', mode: 'STRICT', service: 'reviews' })).toMatchObject({ level: 'native' });
    expect(level({ kind: 'Retry', service: 'reviews', attempts: 2, retryOn: ['5xx'] })).toMatchObject({ level: 'unsupported', reason: expect.stringMatching(/previous_hosts/) });
    expect(level({ kind: 'Retry', service: 'reviews', attempts: 0, retryOn: ['5xx'] })).toMatchObject({ level: 'native' });
    for (const kind of ['FaultAbort', 'FaultDelay', 'TrafficSplit', 'HeaderRoute', 'Timeout', 'Authorization']) {
      const e = EXAMPLE_INTENTS.find((x) => x.intent.kind === kind)!;
      expect({ kind, level: level(e.intent).level }).toEqual({ kind, level: 'native' });
    }
  });

  test('intents of one scenario on the same service merge into one object per kind and name', () => {
    const { mesh: adapter, version } = meshFor('istio');
    const r = adapter.render([
      { kind: 'OutlierDetection', service: 'reviews', consecutive5xx: 3, baseEjectionMs: 30_000, intervalMs: 10_000, maxEjectionPercent: 10 },
      { kind: 'ConnectionPool', service: 'reviews', maxConnections: 1, maxPendingRequests: 1 },
      { kind: 'Retry', service: 'reviews', attempts: 0, retryOn: ['5xx'] },
    ], appContext('shop', version));
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['DestinationRule/reviews', 'VirtualService/reviews', 'VirtualService/productpage', 'VirtualService/ratings']);
    expect(specOf<{ trafficPolicy: object }>(r.objects[0]).trafficPolicy).toHaveProperty('connectionPool');
    expect(specOf<{ trafficPolicy: object }>(r.objects[0]).trafficPolicy).toHaveProperty('outlierDetection');
  });

  test('fractional percentages become integer weights in the same proportion where a mesh needs integers', () => {
    const { mesh: adapter, version } = meshFor('linkerd');
    const r = adapter.render({ kind: 'FaultAbort', service: 'reviews', percent: 12.5, httpStatus: 500 }, appContext('shop', version));
    const route = specOf<{ rules: { backendRefs: { weight: number }[] }[] }>(r.objects.find((o) => o.kind === 'HTTPRoute'));
    expect(route.rules[0]!.backendRefs.map((b) => b.weight)).toEqual([125, 875]);
  });

  test('workload shape: one Service per version for Linkerd and OSM, subsets for Istio and Consul', () => {
    const services = (spec: string) => { const { mesh: adapter, version } = meshFor(spec); return adapter.workload(appContext('shop', version)).filter((o) => o.kind === 'Service').map((o) => o.metadata.name); };
    expect(services('linkerd')).toEqual(expect.arrayContaining(['reviews', 'reviews-v1', 'reviews-v2', 'reviews-v3']));
    expect(services('osm')).toEqual(expect.arrayContaining(['reviews', 'reviews-v1', 'reviews-v2', 'reviews-v3']));
    expect(services('istio')).not.toContain('reviews-v1');
    expect(services('consul')).not.toContain('reviews-v1');
  });

  test("the workload's app is the echo script from a ConfigMap in a stock Node image; each mesh keeps its sidecar off the echo's direct port", () => {
    const skip: Record<string, string> = {
      istio: 'traffic.sidecar.istio.io/excludeInboundPorts', linkerd: 'config.linkerd.io/skip-inbound-ports',
      consul: 'consul.hashicorp.com/transparent-proxy-exclude-inbound-ports', osm: 'openservicemesh.io/inbound-port-exclusion-list',
    };
    for (const [mesh, annotation] of Object.entries(skip)) {
      const { mesh: adapter, version } = meshFor(mesh);
      const w = adapter.workload(appContext('shop', version, 'run-1'));
      const cm = w.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ECHO_CONFIGMAP) as unknown as { data: Record<string, string> };
      expect(cm.data['echo.mjs']).toBe(readFileSync(ECHO_SCRIPT_FILE, 'utf8'));
      const deployments = w.filter((o) => o.kind === 'Deployment');
      // productpage, reviews v1-v3, ratings and the load client.
      expect(deployments).toHaveLength(6);
      for (const d of deployments) {
        const t = specOf<{
          template: {
            metadata: { annotations: Record<string, string> };
            spec: {
              containers: {
                image: string;
                command: string[];
                env: { name: string; value?: string }[];
                readinessProbe: { httpGet: { port: number } };
              }[];
            };
          };
        }>(d).template;
        const c = t.spec.containers[0]!;
        expect(c.image).toBe(IMAGES.app);
        expect(c.command).toEqual(['node', '/meshcheck/echo.mjs']);
        expect(c.readinessProbe.httpGet.port).toBe(9081);
        expect(t.metadata.annotations[annotation]).toBe('9081');
      }
      const reviews = specOf<{ template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }>(deployments.find((d) => d.metadata.name === 'reviews-v2')).template.spec.containers[0]!.env;
      expect(reviews).toEqual(expect.arrayContaining([{ name: 'MESHCHECK_VERSION', value: 'v2' }, { name: 'MESHCHECK_UPSTREAM_URL', value: 'http://ratings:9080' }]));
    }
  });

  test('--image-mirror: every image meshcheck deploys comes from the mirror, its path kept', () => {
    expect(imageRef('docker.io/grafana/k6:2.2.0', 'registry.example.com/mirror/')).toBe('registry.example.com/mirror/grafana/k6:2.2.0');
    expect(imageRef(IMAGES.app)).toBe(IMAGES.app);
    const { mesh: adapter, version } = meshFor('linkerd');
    const ctx = { ...appContext('shop', version), imageMirror: 'mirror.local:5000' };
    const images = [...adapter.workload(ctx), ...adapter.render({ kind: 'FaultAbort', service: 'reviews', percent: 10, httpStatus: 503 }, ctx).objects]
      .filter((o) => o.kind === 'Deployment').map((d) => specOf<{ template: { spec: { containers: { image: string }[] } } }>(d).template.spec.containers[0]!.image);
    expect(new Set(images)).toEqual(new Set(['mirror.local:5000/library/node:22.12.0-alpine', 'mirror.local:5000/envoyproxy/envoy:v1.35.3']));
  });

  test('bad --mesh values are usage errors naming the option', () => {
    expect(() => meshFor('kuma')).toThrow(/--mesh kuma: unknown mesh/);
    expect(() => meshFor('istio@1.9')).toThrow(/--mesh istio@1.9: meshcheck knows Istio 1.20 to 1.31/);
    expect(() => meshFor('istio@latest')).toThrow(/not MAJOR.MINOR/);
  });
});

describe('intents a mesh cannot combine in one scenario', () => {
  const combo = (name: string) => EXAMPLE_COMBINATIONS.find((c) => c.name === name)!.intents;
  const supportsOf = (spec: string, intents: Intent[]): Support[] => { const { mesh: adapter, version } = meshFor(spec); return adapter.supportAll(intents, version); };
  const reasonOf = (s: Support) => (s.level === 'unsupported' ? s.reason : `(${s.level})`);

  test('Istio: a route with a fault gets no retries and no timeout, so those intents are unsupported next to one', () => {
    expect(reasonOf(supportsOf('istio', combo('combo-abort-retry'))[1]!)).toMatch(/does not turn on a route's retries when the route injects a fault/);
    expect(reasonOf(supportsOf('istio', combo('combo-delay-timeout'))[1]!)).toMatch(/timeout of ratings would not be in effect/);
    // Retries turned off, and intents for other services, combine freely.
    expect(supportsOf('istio', [combo('combo-abort-retry')[0]!, { kind: 'Retry', service: 'reviews', attempts: 0, retryOn: ['5xx'] }]).map((s) => s.level)).toEqual(['native', 'native']);
    expect(supportsOf('istio', [combo('combo-abort-retry')[0]!, { kind: 'Retry', service: 'ratings', attempts: 2, retryOn: ['5xx'] }]).map((s) => s.level)).toEqual(['native', 'native']);
  });

  test('meshes that emulate faults with a backend: no retries or timeout over the emulated fault, no delay next to a route or an authorization', () => {
    for (const spec of ['linkerd', 'osm', 'consul']) {
      expect(reasonOf(supportsOf(spec, combo('combo-abort-retry'))[1]!)).toMatch(/retries would retry, while an injected fault is never retried/);
      expect(reasonOf(supportsOf(spec, combo('combo-delay-timeout'))[1]!)).toMatch(/request timeout would count it/);
      expect(reasonOf(supportsOf(spec, combo('combo-delay-split'))[0]!)).toMatch(/forwards to every version of reviews.*weighted split/);
      expect(reasonOf(supportsOf(spec, [combo('combo-delay-split')[0]!, EXAMPLE_INTENTS.find((e) => e.name === 'authorization')!.intent])[0]!)).toMatch(/authorization policy of reviews would not apply/);
    }
    // Consul CE: a header route's subset skips the splitter that carries the abort share.
    expect(reasonOf(supportsOf('consul', combo('combo-abort-header'))[0]!)).toMatch(/past it/);
    // Consul Enterprise injects faults natively, but where the extension runs relative to retries is not verified.
    expect(reasonOf(supportsOf('consul@1.21+ent', combo('combo-abort-retry'))[1]!)).toMatch(/not verified/);
    expect(supportsOf('consul@1.21+ent', combo('combo-delay-split')).map((s) => s.level)).toEqual(['native', 'native']);
  });

  test('Linkerd sends header-matched requests to the abort backend too, in the same proportion', () => {
    const { mesh: adapter, version } = meshFor('linkerd');
    const r = adapter.render(combo('combo-abort-header'), appContext('shop', version));
    expect(r.intents.map((i) => i.support.level)).toEqual(['emulated', 'native']);
    const rules = specOf<{ rules: { matches?: unknown[]; backendRefs: { name: string; weight?: number }[] }[] }>(r.objects.find((o) => o.kind === 'HTTPRoute')).rules;
    expect(rules[0]!.backendRefs).toEqual([{ name: 'reviews-fault-abort-503', port: 9080, weight: 30 }, { name: 'reviews-v2', port: 9080, weight: 70 }]);
  });

  test('Linkerd before 2.16: retries need a ServiceProfile, which turns HTTPRoutes off; a timeout next to them goes into it', () => {
    expect(reasonOf(supportsOf('linkerd@2.15', combo('combo-retry-split'))[0]!)).toMatch(/ServiceProfile.*ignores its HTTPRoutes.*the weighted split/);
    expect(supportsOf('linkerd', combo('combo-retry-split')).map((s) => s.level)).toEqual(['native', 'native']);
    const { mesh: adapter, version } = meshFor('linkerd@2.15');
    const r = adapter.render(combo('combo-retry-timeout'), appContext('shop', version));
    expect(r.intents.map((i) => describeSupport(i.support))).toEqual([expect.stringMatching(/^emulated: ServiceProfile/), expect.stringMatching(/ServiceProfile route timeout/)]);
    expect(r.objects.map((o) => o.kind)).toEqual(['ServiceProfile']);
    expect(specOf<{ routes: { timeout: string }[] }>(r.objects[0]).routes[0]!.timeout).toBe('500ms');
  });

  test('OSM: a timeout is a Retry policy, so it cannot sit next to a stated retry policy', () => {
    expect(reasonOf(supportsOf('osm', combo('combo-retry-timeout'))[1]!)).toMatch(/already takes the one Retry per caller/);
  });

  test("OSM authorization turns the mesh's permissive policy off, so the rest of the app and the fault backends get TrafficTargets", () => {
    const { mesh: adapter, version } = meshFor('osm');
    const r = adapter.render(combo('combo-authorization-abort-elsewhere'), appContext('shop', version));
    const targets = Object.fromEntries(r.objects.filter((o) => o.kind === 'TrafficTarget').map((o) => [o.metadata.name, specOf<{ sources: { name: string }[] }>(o).sources.map((x) => x.name)]));
    expect(targets).toEqual({
      reviews: ['productpage'],
      productpage: ['loadclient'],
      ratings: ['reviews', 'loadclient'],
      'ratings-fault-abort-500': ['reviews', 'loadclient'],
    });
  });

  test('the capability gate uses the combination: a scenario with a conflict is NOT_SUPPORTED before anything is applied', () => {
    const { mesh: adapter, version } = meshFor('istio');
    const intents = combo('combo-abort-retry');
    const missing = unsupportedOf(intents, adapter.supportAll(intents, version));
    expect(missing.map((m) => m.text)).toEqual([expect.stringMatching(/^Retry reviews: 2 on 5xx: Istio does not turn on/)]);
  });

  test('an intent made unsupported by a combination renders nothing of its own', () => {
    const { mesh: adapter, version } = meshFor('istio');
    const vs = specOf<{ http: { retries: unknown }[] }>(adapter.render(combo('combo-abort-retry'), appContext('shop', version)).objects.find((o) => o.kind === 'VirtualService'));
    for (const route of vs.http) expect(route.retries).toEqual({ attempts: 0 });
  });
});
