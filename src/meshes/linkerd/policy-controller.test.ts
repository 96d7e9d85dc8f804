import { expectations, judge, judgeProfile, isLinkerdInbound, isLinkerdServed, namespaceDefault, profileExpectations, type PodPorts, type ServedPort } from './policy-controller.js';
import { linkerd } from './mesh.js';
import { appContext } from '../registry.js';
import type { K8sObject } from '../../kube/objects.js';
import type { Intent } from '../../intents/types.js';

const NS = 'meshcheck-r1';
const ctx = appContext(NS, '2.18');
const render = (intents: Intent[]) => linkerd.render(intents, ctx).objects.filter(isLinkerdInbound);
const pods: PodPorts[] = [
  { name: 'reviews-v1-abc', labels: { app: 'reviews', version: 'v1' }, ports: [{ name: 'http', containerPort: 9080 }, { name: 'direct', containerPort: 9081 }] },
  { name: 'ratings-v1-def', labels: { app: 'ratings', version: 'v1' }, ports: [{ name: 'http', containerPort: 9080 }] },
];
const onlyProductpage: Intent = { kind: 'Authorization', service: 'reviews', allowFrom: ['productpage'] };
const strict: Intent = { kind: 'MtlsMode', service: 'reviews', mode: 'STRICT' };

const server = (name: string, authorizations: unknown[] = []): ServedPort => ({ workload: `${NS}:reviews-v1-abc`, port: 9080, server: { labels: { group: 'policy.linkerd.io', kind: 'server', name }, authorizations: authorizations as never } });
const policy = (name: string, identities: string[]) => ({ labels: { kind: 'authorizationpolicy', name }, metadata: { resource: { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name } }, authentication: { meshTLS: { identities: { identities: identities.map((n) => ({ name: n })) } } } });
const defaultAuthz = (name: string) => ({ labels: { kind: 'default', name }, metadata: { default: name } });
const byDefault = (name = 'all-unauthenticated'): ServedPort => ({ workload: `${NS}:reviews-v1-abc`, port: 9080, server: { labels: { group: '', kind: 'default', name }, authorizations: [defaultAuthz(name)] } });

describe("Linkerd's inbound policy: what the policy controller should serve for each selected pod's port", () => {
  test('the render of "only productpage may call reviews" is these kinds, all covered by the wait', () => {
    const objects = linkerd.render([onlyProductpage], ctx).objects;
    expect(objects.filter((o) => o.apiVersion.startsWith('policy.linkerd.io')).map((o) => o.kind).sort()).toEqual(['AuthorizationPolicy', 'MeshTLSAuthentication', 'Server']);
    expect(objects.filter((o) => o.apiVersion.startsWith('policy.linkerd.io')).every(isLinkerdInbound)).toBe(true);
  });

  test("a Server's named port on the pods its selector matches, with the policy that targets it and the caller's identity", () => {
    expect(expectations(NS, render([onlyProductpage]), [], pods)).toEqual([
      { workload: `${NS}:reviews-v1-abc`, port: 9080, server: 'reviews-http', accessPolicy: 'deny', notServer: [], authz: [{ name: 'reviews-allow', identities: [`productpage.${NS}.serviceaccount.identity.`] }], notAuthz: [] },
    ]);
  });

  test('undone: the same ports, no longer from the removed Server nor with its policies', () => {
    expect(expectations(NS, [], render([onlyProductpage]), pods)).toEqual([
      { workload: `${NS}:reviews-v1-abc`, port: 9080, notServer: ['reviews-http'], authz: [], notAuthz: ['reviews-allow'] },
    ]);
  });

  test('served as expected: in effect, saying from what', () => {
    const [e] = expectations(NS, render([onlyProductpage]), [], pods);
    expect(judge(e!, server('reviews-http', [policy('reviews-allow', [`productpage.${NS}.serviceaccount.identity.linkerd.cluster.local`])]))).toEqual({ ok: true, how: `${NS}:reviews-v1-abc port 9080 served from Server reviews-http with AuthorizationPolicy reviews-allow` });
  });

  test('each way it can still be behind is named', () => {
    const [e] = expectations(NS, render([onlyProductpage]), [], pods);
    const id = `productpage.${NS}.serviceaccount.identity.linkerd.cluster.local`;
    expect(judge(e!, byDefault())).toEqual({ ok: false, why: `${NS}:reviews-v1-abc port 9080: served from the default policy all-unauthenticated, not yet from Server reviews-http` });
    expect(judge(e!, server('reviews-http'))).toMatchObject({ ok: false, why: expect.stringMatching(/AuthorizationPolicy reviews-allow not served yet \(served: none; the controller also leaves out a policy whose authentication it cannot find\)$/) });
    expect(judge(e!, server('reviews-http', [policy('reviews-allow', [`details.${NS}.serviceaccount.identity.linkerd.cluster.local`])]))).toMatchObject({ ok: false, why: expect.stringMatching(/serves identities details\.\S+, expected productpage\.meshcheck-r1\.serviceaccount\.identity\.\*$/) });
    expect(judge(e!, server('reviews-http', [policy('reviews-allow', [id]), defaultAuthz('all-unauthenticated')]))).toMatchObject({ ok: false, why: expect.stringMatching(/accessPolicy deny not served yet \(default authorizations: all-unauthenticated\)$/) });
    expect(judge(e!, { workload: e!.workload, port: 9080, code: 'NotFound', error: 'unknown server' })).toEqual({ ok: false, why: `${NS}:reviews-v1-abc port 9080: NotFound unknown server` });
    expect(judge(e!, undefined)).toEqual({ ok: false, why: `${NS}:reviews-v1-abc port 9080: no answer` });
  });

  test("STRICT for a service: its Server's accessPolicy all-authenticated, served as that default authorization", () => {
    const [e] = expectations(NS, render([strict]), [], pods);
    expect(e).toMatchObject({ server: 'reviews-http', accessPolicy: 'all-authenticated', authz: [] });
    expect(judge(e!, server('reviews-http', [defaultAuthz('all-authenticated')])).ok).toBe(true);
    expect(judge(e!, server('reviews-http', [])).ok).toBe(false);
  });

  test('an undo is in effect once the port is served by default (or by another Server), not while the removed one is', () => {
    const [e] = expectations(NS, [], render([onlyProductpage]), pods);
    expect(judge(e!, byDefault()).ok).toBe(true);
    expect(judge(e!, server('someone-elses')).ok).toBe(true);
    expect(judge(e!, server('reviews-http', [policy('reviews-allow', [])]))).toEqual({ ok: false, why: `${NS}:reviews-v1-abc port 9080: still served from Server reviews-http` });
  });

  test("the namespace's default policy: every pod's http port no Server selects, once its pod has restarted", () => {
    const permissive = linkerd.render([{ kind: 'MtlsMode', mode: 'PERMISSIVE' }], ctx).objects;
    expect(namespaceDefault(permissive)).toBe('all-unauthenticated');
    expect(namespaceDefault(render([onlyProductpage]))).toBeUndefined();
    const want = expectations(NS, [], [], pods, 'all-authenticated');
    expect(want.map((e) => [e.workload, e.port, e.defaultPolicy])).toEqual([[`${NS}:reviews-v1-abc`, 9080, 'all-authenticated'], [`${NS}:ratings-v1-def`, 9080, 'all-authenticated']]);
    expect(judge(want[0]!, byDefault('all-unauthenticated'))).toEqual({ ok: false, why: `${NS}:reviews-v1-abc port 9080: served from the default policy all-unauthenticated, not yet from the default policy all-authenticated (the pod reads it when it starts)` });
    expect(judge(want[0]!, byDefault('all-authenticated')).ok).toBe(true);
    // A port a Server selects is served from the Server, whatever the default.
    const both = expectations(NS, render([onlyProductpage]), [], pods, 'all-authenticated');
    expect(both.find((e) => e.workload.endsWith('reviews-v1-abc'))).toMatchObject({ server: 'reviews-http' });
    expect(both.find((e) => e.workload.endsWith('reviews-v1-abc'))!.defaultPolicy).toBeUndefined();
  });

  test('a podSelector meshcheck cannot read is refused by name, not guessed', () => {
    const s: K8sObject = { apiVersion: 'policy.linkerd.io/v1beta3', kind: 'Server', metadata: { name: 'x', namespace: NS }, spec: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['reviews'] }] }, port: 'http' } } as never;
    expect(() => expectations(NS, [s], [], pods)).toThrow(/Server x: podSelector.matchExpressions is not read/);
  });
});

describe('Linkerd before 2.16: a ServiceProfile read back from the destination controller (GetProfile)', () => {
  const old = appContext(NS, '2.15');
  const retries: Intent[] = [{ kind: 'Retry', service: 'reviews', attempts: 2, retryOn: ['5xx'] }, { kind: 'Timeout', service: 'reviews', timeoutMs: 700 }];
  const sp = linkerd.render(retries, old).objects.filter((o) => o.kind === 'ServiceProfile');
  const path = `reviews.${NS}.svc.cluster.local:9080`;
  const served = (routes: unknown[], retryRatio?: number) => ({ path, profile: { routes, ...(retryRatio === undefined ? {} : { retryBudget: { retryRatio } }) } }) as never;

  test('the render is a ServiceProfile, waited on with the rest of what the controllers serve', () => {
    expect(sp).toHaveLength(1);
    expect(sp.every(isLinkerdServed)).toBe(true);
  });

  test("its routes, retryable and with the timeout, and its budget's ratio, on HOST:PORT", () => {
    const [e] = profileExpectations(sp, [], 9080);
    expect(e).toEqual({ path, routes: [{ name: 'all', retryable: true, timeoutMs: 700 }], retryRatio: 0.2, notRoutes: [] });
    expect(judgeProfile(e!, served([{ metricsLabels: { route: 'all' }, isRetryable: true, timeout: '0.700s' }], 0.2))).toEqual({ ok: true, how: `profile of ${path} served with route all` });
    expect(judgeProfile(e!, served([], undefined))).toEqual({ ok: false, why: `profile of ${path}: route all not served yet (served: none)` });
    expect(judgeProfile(e!, served([{ metricsLabels: { route: 'all' }, timeout: '0.700s' }], 0.2))).toEqual({ ok: false, why: `profile of ${path}: route all served not retryable` });
    expect(judgeProfile(e!, served([{ metricsLabels: { route: 'all' }, isRetryable: true, timeout: '10s' }], 0.2))).toEqual({ ok: false, why: `profile of ${path}: route all served with timeout 10s, expected 700 ms` });
    expect(judgeProfile(e!, served([{ metricsLabels: { route: 'all' }, isRetryable: true, timeout: '0.700s' }]))).toEqual({ ok: false, why: `profile of ${path}: retry budget ratio none, expected 0.2` });
    expect(judgeProfile(e!, { path, code: 'InvalidArgument', error: 'bad path' })).toEqual({ ok: false, why: `profile of ${path}: InvalidArgument bad path` });
  });

  test('undone: in effect once the removed routes are no longer served', () => {
    const [e] = profileExpectations([], sp, 9080);
    expect(e).toEqual({ path, routes: [], notRoutes: ['all'] });
    expect(judgeProfile(e!, served([])).ok).toBe(true);
    expect(judgeProfile(e!, served([{ metricsLabels: { route: 'all' }, isRetryable: true }]))).toEqual({ ok: false, why: `profile of ${path}: route all still served` });
  });
});
