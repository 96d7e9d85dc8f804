import { startCli } from './helpers/cli.js';

async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(args);
  const code = await run.done;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

test.each(['istio', 'linkerd', 'consul', 'osm'])('meshcheck plan --mesh %s covers every bundled scenario and ends with the capability summary', async (mesh) => {
  const r = await cli(['plan', '--mesh', mesh]);
  expect(r.code).toBe(0);
  expect(r.stdout.match(/^## features\//gm)?.length).toBe(16);
  expect(r.stdout).toMatch(/^# capability summary$/m);
  expect(r.stdout).toMatch(/^kind: /m);
});

test('plan shows NOT_SUPPORTED with the reason, and the exact manifests of emulations', async () => {
  const r = await cli(['plan', '--mesh', 'osm', 'features/traffic-shifting.feature', 'features/fault-injection.feature']);
  expect(r.stdout).toMatch(/A user's requests go to v2 by header\nlevel: NOT_SUPPORTED \(unsupported\)\n- line 15: HeaderRoute reviews: end-user=jason -> v2 — unsupported: OSM serves TrafficSplit v1alpha2 only/);
  expect(r.stdout).toMatch(/level: emulated\n- line 5: FaultAbort reviews: 30% with 503 — emulated: TrafficSplit sends 30% to an error backend/);
  expect(r.stdout).toMatch(/kind: TrafficSplit\n[\s\S]*?- service: reviews-fault-abort-503\n\s+weight: 30/);
});

test('plan --format yaml prints only manifests; bad input is a usage error naming the file and line', async () => {
  const yaml = await cli(['plan', '--mesh', 'istio@1.21', 'features/mtls.feature', '--format', 'yaml']);
  expect(yaml.stdout).toMatch(/^---\napiVersion: security.istio.io\/v1beta1\nkind: PeerAuthentication/);
  const bad = await cli(['plan', '--mesh', 'istio', 'test/fixtures/invalid']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/invalid\.feature:3: FaultAbort: abort share 130% is out of range/);
});

test('plan --mesh istio shows each scenario on proxyless gRPC too, with the steps it cannot answer there', async () => {
  const r = await cli(['plan', '--mesh', 'istio', 'features/fault-injection.feature', 'features/circuit-breaking.feature', '--no-manifests']);
  expect(r.stdout).toMatch(/A share of calls to reviews is delayed\nlevel: native\nlevel on proxyless gRPC 1\.31: native/);
  expect(r.stdout).toMatch(/level on proxyless gRPC 1\.31: NOT_SUPPORTED \(line 8 "the mesh reports at least 10 responses with status 503 for "reviews"" — proxyless gRPC exports no Istio standard metrics/);
  expect(r.stdout).toMatch(/level on proxyless gRPC 1\.31: NOT_SUPPORTED \(OutlierDetection reviews: .* no outlier detection in CDS/);
  expect(r.stdout).toMatch(/^# capability summary on proxyless gRPC 1\.31$/m);
});
