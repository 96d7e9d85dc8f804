import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atRevision, loadProfile, profileNames } from './profiles.js';

test("every profile in clusters/profiles loads: pinned versions, and Linkerd's and Consul's Gateway API CRDs only where the cluster has none", () => {
  expect(profileNames()).toEqual(['consul', 'istio', 'linkerd', 'metrics-server', 'osm', 'prometheus']);
  for (const name of profileNames()) for (const r of loadProfile(name).releases) expect(r.version).toMatch(/^\d+\.\d+\.\d+$/);
  expect(loadProfile('linkerd').releases[0]).toMatchObject({ chart: 'linkerd-crds', whenCrdMissing: { crd: 'httproutes.gateway.networking.k8s.io', values: { installGatewayAPI: true } } });
  expect(loadProfile('consul').releases[0]).toMatchObject({ values: { connectInject: { apiGateway: { manageExternalCRDs: false } } }, whenCrdMissing: { crd: 'httproutes.gateway.networking.k8s.io', values: { connectInject: { apiGateway: { manageExternalCRDs: true } } } } });
});

test('a profile with a malformed release is refused, naming the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshcheck-profiles-'));
  const release = 'release: r\n    namespace: ns\n    repo: https://charts.example\n    chart: c\n';
  writeFileSync(join(dir, 'unpinned.yaml'), `title: t\nreleases:\n  - ${release}    version: latest\n`);
  expect(() => loadProfile('unpinned', dir)).toThrow(`${join(dir, 'unpinned.yaml')}: releases[0].version "latest" is not a pinned version`);
  writeFileSync(join(dir, 'crd.yaml'), `title: t\nreleases:\n  - ${release}    version: 1.0.0\n    whenCrdMissing:\n      crd: httproutes\n      values: {a: 1}\n`);
  expect(() => loadProfile('crd', dir)).toThrow(`${join(dir, 'crd.yaml')}: releases[0].whenCrdMissing needs crd (a CRD's name, <plural>.<group>) and values (a map)`);
  writeFileSync(join(dir, 'minors.yaml'), `title: t\nminors:\n  "1.30": 1.31.0\nreleases:\n  - ${release}    version: 1.0.0\n`);
  expect(() => loadProfile('minors', dir)).toThrow(`${join(dir, 'minors.yaml')}: minors needs a map of minors to their pinned releases, e.g. "1.30": 1.30.3`);
  expect(() => loadProfile('nope', dir)).toThrow(/no install profile "nope" \(clusters\/profiles has crd, minors, unpinned\)/);
});

test('a revision of a profile: its per-revision release renamed and its revision value set; shared releases as they are', () => {
  const p = atRevision(loadProfile('istio'), '1-31');
  expect(p.releases.map((r) => r.release)).toEqual(['istio-base', 'istiod-1-31']);
  expect(p.releases[1]!.values).toMatchObject({ revision: '1-31', meshConfig: { enablePrometheusMerge: true } });
  expect(loadProfile('istio').releases[1]!.values).not.toHaveProperty('revision');
  expect(() => atRevision(loadProfile('linkerd'), 'canary')).toThrow(/^--revision canary: linkerd has no release installed per revision /);
});
