import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findPrometheus } from '../metrics/prometheus.js';
import { PACKAGE_ROOT } from './paths.js';
import { orphanLedgers } from './cleanup.js';
import { toolsBin } from '../util/tools.js';
import { helmTooOld } from '../install/helm-version.js';

interface Row {
  what: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** `meshcheck doctor`: what is installed and reachable, and how to fix what is not. */
export function doctor(): number {
  const major = Number(process.versions.node.split('.')[0]);
  const prom = findPrometheus();
  const orphans = orphanLedgers();
  const which = spawnSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' });
  const java = which.status === 0 ? which.stdout.trim() : undefined;
  const rows: Row[] = [
    { what: 'node', ok: major >= 20, detail: process.versions.node, fix: 'install Node.js 20.18 or newer' },
    { what: 'build', ok: existsSync(join(PACKAGE_ROOT, 'dist', 'steps')), detail: join(PACKAGE_ROOT, 'dist'), fix: 'npm run build' },
    { what: 'prometheus', ok: prom !== undefined, detail: prom ?? 'not found', fix: 'npm run setup (installs the Debian package "prometheus")' },
    ...['kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'meshcheck-policy', 'k6'].map((t) => ({ what: t, ok: existsSync(join(toolsBin(), t)), detail: join(toolsBin(), t), fix: `bash scripts/${t === 'k6' ? 'build-k6.sh' : 'build-kube-tools.sh'} (builds from the Go module proxy; minutes when cold), or npm run setup` })),
    // meshcheck install drives these; the user's own on PATH come first.
    ...['helm', 'kubectl'].map((t) => {
      const onPath = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' });
      const found = onPath.status === 0 ? onPath.stdout.trim() : existsSync(join(toolsBin(), t)) ? join(toolsBin(), t) : undefined;
      const old = found && t === 'helm' ? helmTooOld(spawnSync(found, ['version', '--short'], { encoding: 'utf8' }).stdout ?? '') : undefined;
      return { what: t, ok: found !== undefined && !old, detail: old ?? found ?? 'not found (meshcheck install needs it)', fix: `install ${t === 'helm' ? 'Helm 3.14 or later' : t}, or bash scripts/build-kube-tools.sh (builds it from the Go module proxy)` };
    }),
    ...['pilot-discovery', 'meshcheck-proxyless'].map((t) => {
      const bin = join(toolsBin(), t);
      const v = existsSync(bin) ? spawnSync(bin, t === 'pilot-discovery' ? ['version', '-s'] : ['version'], { encoding: 'utf8' }) : undefined;
      const version = v?.stdout.trim().split('\n').pop();
      return { what: t, ok: v?.status === 0, detail: v ? `${bin} (${version || 'no version'})` : `${bin}: not built (the Istio tier, --mesh istio on the local target)`, fix: 'bash scripts/build-istio.sh (istiod from the Go module proxy: about 8 minutes cold), or npm run setup' };
    }),
    { what: 'java', ok: java !== undefined, detail: java ?? 'not found (needed for the Allure HTML)', fix: 'npm run setup (installs openjdk-17-jre-headless), or use meshcheck report --no-allure' },
    { what: 'allure', ok: existsSync(join(PACKAGE_ROOT, 'node_modules', 'allure-commandline', 'dist', 'bin', 'allure')), detail: 'allure-commandline (npm)', fix: 'npm install' },
    { what: 'chromium', ok: existsSync('/usr/bin/chromium'), detail: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium (browser test of the reports)' : 'not found (the browser test needs it)', fix: 'npm run setup (installs the Debian package "chromium")' },
    { what: 'leftovers', ok: orphans.length === 0, detail: orphans.length ? `${orphans.length} crashed run(s): ${orphans.map((o) => o.runId).join(', ')}` : 'none', fix: 'meshcheck cleanup --orphans' },
  ];
  for (const r of rows) process.stdout.write(`${r.ok ? 'ok  ' : 'FIX '} ${r.what.padEnd(19)} ${r.detail}${r.ok || !r.fix ? '' : `\n       -> ${r.fix}`}\n`);
  return rows.every((r) => r.ok) ? 0 : 3;
}
