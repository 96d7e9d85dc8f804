import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Istio's charts as the istio module at the Istio tier's pinned version holds them (chart version
 * 1.0.0: a development tree), laid out for `meshcheck install --charts`.
 */
export function istioCharts(): string {
  const mod = execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', 'istio.io/istio'], { cwd: join(process.cwd(), 'go', 'proxyless'), encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'meshcheck-charts-'));
  symlinkSync(join(mod, 'manifests', 'charts', 'base'), join(dir, 'base'));
  symlinkSync(join(mod, 'manifests', 'charts', 'istio-control', 'istio-discovery'), join(dir, 'istiod'));
  return dir;
}
