import { atMinor, loadProfile } from './profiles.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeChartsDir, nodeImage, parseSets, releaseImages, withImagesAndSets } from './install.js';

const istiod = loadProfile('istio').releases.find((r) => r.release === 'istiod')!;

describe('what install sets beside the profile (D5)', () => {
  it('on meshcheck\'s node, the images it built; with a mirror, the pinned images from it; else the chart\'s own', () => {
    const node = { 'istio-pilot': 'meshcheck.local/istio-pilot:1.31-dev', 'istio-sidecar': 'meshcheck.local/istio-sidecar:1.31-dev-envoy-1.40.0', app: 'meshcheck.local/node:20' };
    expect(releaseImages(istiod, { node })).toEqual([
      { value: 'image', image: 'meshcheck.local/istio-pilot:1.31-dev', from: 'meshcheck\'s node' },
      { value: 'global.proxy.image', image: 'meshcheck.local/istio-sidecar:1.31-dev-envoy-1.40.0', from: 'meshcheck\'s node' },
      { value: 'global.proxy_init.image', image: 'meshcheck.local/istio-sidecar:1.31-dev-envoy-1.40.0', from: 'meshcheck\'s node' },
    ]);
    expect(releaseImages(istiod, { mirror: 'registry.example.com/mirror' })).toEqual([
      { value: 'image', image: 'registry.example.com/mirror/istio/pilot:1.30.3', from: '--image-mirror' },
      { value: 'global.proxy.image', image: 'registry.example.com/mirror/istio/proxyv2:1.30.3', from: '--image-mirror' },
      { value: 'global.proxy_init.image', image: 'registry.example.com/mirror/istio/proxyv2:1.30.3', from: '--image-mirror' },
    ]);
    expect(releaseImages(istiod, {})).toEqual([]);
  });

  it("on meshcheck's node only, the values its upstream Envoy needs (Istio's own extensions off); --set over them, typed as helm types it", () => {
    const onNode = structuredClone(istiod.values ?? {});
    const said = withImagesAndSets(onNode, istiod, { node: { 'istio-pilot': 'meshcheck.local/istio-pilot:1' } }, [['pilot.env.PILOT_ENABLE_ALPN_FILTER', 'true'], ['replicaCount', '2'], ['global.logging.level', 'default:debug']]);
    expect(onNode).toMatchObject({
      telemetry: { enabled: false },
      pilot: { env: { PILOT_ENABLE_METADATA_EXCHANGE: 'false', PILOT_ENABLE_ALPN_FILTER: true } },
      replicaCount: 2, global: { logging: { level: 'default:debug' } },
    });
    expect(said).toMatch(/values for meshcheck's node telemetry\.enabled=false, pilot\.env\.PILOT_ENABLE_METADATA_EXCHANGE=false, pilot\.env\.PILOT_ENABLE_ALPN_FILTER=false/);
    const elsewhere = structuredClone(istiod.values ?? {});
    expect(withImagesAndSets(elsewhere, istiod, {}, [])).toBeUndefined();
    expect(elsewhere).toEqual(istiod.values);
  });

  it('--set names a release of the profiles and a value path', () => {
    expect([...parseSets(['istiod.global.logging.level=default:debug', 'istiod.image=my/pilot:1'], ['istio-base', 'istiod'])]).toEqual([
      ['istiod', [['global.logging.level', 'default:debug'], ['image', 'my/pilot:1']]],
    ]);
    expect(() => parseSets(['pilot.image=x'], ['istio-base', 'istiod'])).toThrow('--set pilot.image=x: no release "pilot" in these profiles (istio-base, istiod)');
    expect(() => parseSets(['image'], ['istiod'])).toThrow('--set image: expected RELEASE.PATH=VALUE');
  });
});

test("on meshcheck's node, Istio's charts are the ones of the source its istiod image was built from; elsewhere none", () => {
  const root = mkdtempSync(join(tmpdir(), 'meshcheck-charts-test-'));
  try {
    mkdirSync(join(root, 'v0.0.0-20260827124520-eed52ebb66ad'));
    mkdirSync(join(root, 'v0.0.0-20250101000000-aaaaaaaaaaaa'));
    expect(nodeChartsDir({ 'istio-pilot': 'meshcheck.local/istio-pilot:1.31-dev-eed52ebb66ad' }, root)).toBe(join(root, 'v0.0.0-20260827124520-eed52ebb66ad'));
    expect(nodeChartsDir({ 'istio-pilot': 'meshcheck.local/istio-pilot:1.31-dev-bbbbbbbbbbbb' }, root)).toBeUndefined();
    expect(nodeChartsDir(undefined, root)).toBeUndefined();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--mesh istio@MINOR: the profile at that minor (charts and image tags at its pinned release); on the node, that minor\'s own images and charts', () => {
  const profile = atMinor(loadProfile('istio'), '1.31');
  expect(profile.releases.map((r) => [r.release, r.version])).toEqual([['istio-base', '1.31.0'], ['istiod', '1.31.0']]);
  expect(profile.run).toBe('--mesh istio@1.31');
  expect(profile.title).toBe('Istio 1.31.0 (Envoy sidecars)');
  const at131 = profile.releases[1]!;
  expect(releaseImages(at131, { mirror: 'registry.example.com/mirror' }).map((i) => i.image)).toEqual([
    'registry.example.com/mirror/istio/pilot:1.31.0', 'registry.example.com/mirror/istio/proxyv2:1.31.0', 'registry.example.com/mirror/istio/proxyv2:1.31.0',
  ]);
  // The node names its default minor's images plainly and another minor's with it.
  const node = {
    'istio-pilot': 'meshcheck.local/istio-pilot:1.31-dev-eed52ebb66ad', 'istio-sidecar': 'meshcheck.local/istio-sidecar:1.31-dev-eed52ebb66ad-envoy-1.40.0',
    'istio-pilot-1.30': 'meshcheck.local/istio-pilot:1.30-dev-9739e10eb9d7', 'istio-sidecar-1.30': 'meshcheck.local/istio-sidecar:1.30-dev-9739e10eb9d7-envoy-1.40.0',
  };
  expect(releaseImages(at131, { node }).map((i) => i.image)).toEqual([node['istio-pilot'], node['istio-sidecar'], node['istio-sidecar']]);
  const at130 = atMinor(loadProfile('istio'), '1.30').releases[1]!;
  expect(releaseImages(at130, { node }).map((i) => i.image)).toEqual([node['istio-pilot-1.30'], node['istio-sidecar-1.30'], node['istio-sidecar-1.30']]);
  expect(nodeImage(node, 'istio-pilot')).toBe(node['istio-pilot']);
  expect(nodeImage(node, 'istio-pilot', '1.29')).toBeUndefined();
  const root = mkdtempSync(join(tmpdir(), 'meshcheck-charts-test-'));
  try {
    for (const d of ['v0.0.0-20260827124520-eed52ebb66ad', 'v0.0.0-20260826214018-9739e10eb9d7']) mkdirSync(join(root, d));
    expect(nodeChartsDir(node, root, '1.30')).toBe(join(root, 'v0.0.0-20260826214018-9739e10eb9d7'));
    expect(nodeChartsDir(node, root, '1.31')).toBe(join(root, 'v0.0.0-20260827124520-eed52ebb66ad'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  // A node without that minor's images says so; a minor the profile does not pin is refused.
  const { 'istio-pilot-1.30': _p, 'istio-sidecar-1.30': _s, ...only131 } = node;
  expect(() => releaseImages(at130, { node: only131 })).toThrow("meshcheck's node has no istio-pilot image of 1.30 (it has 1.31)");
  expect(() => atMinor(loadProfile('istio'), '1.29')).toThrow(/^--mesh istio@1\.29: install pins istio@1\.30, istio@1\.31 \(.*istio\.yaml\)$/);
  expect(() => atMinor(loadProfile('linkerd'), '2.15')).toThrow(/^--mesh linkerd@2\.15: install pins only one version of linkerd /);
});

test("on meshcheck's node, OSM's chart takes the control plane images the node built, and its Wasm stats filter is off", async () => {
  const { OSM_IMAGES } = await import('../cluster/images.js');
  const { WASM_STATS_FLAG } = await import('../meshes/osm/facts.js');
  const osm = loadProfile('osm').releases[0]!;
  expect(osm.nodeValues).toEqual({ 'osm.image.registry': OSM_IMAGES, 'osm.image.tag': `v${osm.version}`, [WASM_STATS_FLAG]: false });
  const node = { 'upstream-envoy': 'meshcheck.local/envoy:1.40.0', 'osm-curl': 'meshcheck.local/osm/curl:7.88.1' };
  expect(releaseImages(osm, { node }).map((i) => `${i.value}=${i.image}`)).toEqual(['osm.sidecarImage=meshcheck.local/envoy:1.40.0', 'osm.curlImage=meshcheck.local/osm/curl:7.88.1']);
});
