import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { $, which, type ProcessOutput } from 'zx';
import { InfraError, UsageError } from '../errors.js';
import { toolsBin } from '../kube/tools.js';
import { linkerdIdentity } from './linkerd-identity.js';
import { loadProfile, type Profile, type Release } from './profiles.js';

/** The label `meshcheck install` puts on the namespaces it creates, so `uninstall` deletes only those. */
export const INSTALLED_BY = 'meshcheck.io/installed-by';

export interface InstallOptions {
  context: string;
  kubeconfig: string;
  /** Profiles to install, in order (the mesh, then add-ons such as prometheus). */
  profiles: string[];
  /** A folder holding each chart by name (CHARTS/<chart>), for clusters that cannot reach the chart repositories. */
  charts?: string;
  /** Print the commands without running them. */
  dryRun?: boolean;
  /** helm --timeout for each release to be ready. */
  timeout: string;
  log: (m: string) => void;
}

/** helm or kubectl: on PATH, else the one scripts/build-kube-tools.sh built; an error that says how to get it. */
export async function findTool(name: 'helm' | 'kubectl'): Promise<string> {
  const onPath = await which(name, { nothrow: true });
  if (onPath) return onPath;
  const built = join(toolsBin(), name);
  if (existsSync(built)) return built;
  const how = name === 'helm' ? 'install Helm 3 or 4 (https://helm.sh/docs/intro/install/)' : 'install kubectl (https://kubernetes.io/docs/tasks/tools/)';
  throw new InfraError(`${name} is not installed (not on PATH, not in ${toolsBin()}): ${how}, or run: bash scripts/build-kube-tools.sh (builds it from the Go module proxy)`);
}

/** A release's chart in a --charts folder: CHARTS/<chart> (unpacked) or CHARTS/<chart>-<version>.tgz (as `helm pull` names it). */
function localChart(dir: string, r: Release): string {
  for (const p of [join(dir, r.chart), join(dir, `${r.chart}-${r.version}.tgz`)]) if (existsSync(p)) return p;
  throw new UsageError(`--charts ${dir}: neither ${r.chart}/ nor ${r.chart}-${r.version}.tgz is there (helm pull ${r.chart} --repo ${r.repo} --version ${r.version} makes the archive)`);
}

/** What a failed command printed last, for the error. */
function tail(p: ProcessOutput): string {
  return `${p.stderr}\n${p.stdout}`.trim().split('\n').slice(-8).join('\n');
}

/** The values a release is installed with: the profile's, plus what meshcheck generates (Linkerd's identity). */
async function valuesOf(r: Release): Promise<Record<string, unknown>> {
  const values = structuredClone(r.values ?? {});
  if (r.identity === 'linkerd') {
    const id = await linkerdIdentity();
    values.identityTrustAnchorsPEM = id.trustAnchorPem;
    const identity = (values.identity ??= {}) as Record<string, unknown>;
    identity.issuer = { ...(identity.issuer as object), tls: { crtPEM: id.issuerCertPem, keyPEM: id.issuerKeyPem } };
  }
  return values;
}

/**
 * `meshcheck install`: each profile's Helm releases in order, with helm (upgrade --install, --wait)
 * and kubectl driven by zx: the pinned chart versions from their repositories (or --charts), a
 * namespace created (and labelled) where missing. A release already deployed at the pinned version is
 * left as it is, so running it again changes nothing; one at another version is upgraded, keeping
 * the identity it was installed with (Linkerd's trust anchor and issuer).
 */
export async function install(o: InstallOptions): Promise<string[]> {
  const profiles = o.profiles.map((p) => loadProfile(p));
  const [helm, kubectl] = o.dryRun ? ['helm', 'kubectl'] : [await findTool('helm'), await findTool('kubectl')];
  if (o.charts && !existsSync(o.charts)) throw new UsageError(`--charts ${o.charts}: no such folder`);
  const kube = ['--kubeconfig', o.kubeconfig];
  const all = profiles.flatMap((p) => p.releases.map((r) => ({ p, r })));
  const dir = mkdtempSync(join(tmpdir(), 'meshcheck-install-'));
  const done: string[] = [];
  const sh = $({ quiet: true, nothrow: true });
  try {
    for (const [n, { p, r }] of all.entries()) {
      const step = `[${n + 1}/${all.length}] ${p.name}: ${r.release} (chart ${r.chart} ${r.version}) in ${r.namespace}`;
      const local = o.charts ? localChart(o.charts, r) : undefined;
      let upgrade = false;
      if (!o.dryRun) {
        const status = await sh`${helm} status ${r.release} --namespace ${r.namespace} --kube-context ${o.context} ${kube} -o json`;
        if (status.exitCode === 0) {
          const s = JSON.parse(status.stdout) as { info?: { status?: string }; chart?: { metadata?: { version?: string } } };
          if (s.info?.status === 'deployed' && (local || s.chart?.metadata?.version === r.version)) {
            o.log(`${step}: deployed already, left as it is`);
            continue;
          }
          upgrade = true;
        }
        const ns = await sh`${kubectl} get namespace ${r.namespace} --context ${o.context} ${kube} -o name`;
        if (ns.exitCode !== 0) {
          const made = await sh`${kubectl} create namespace ${r.namespace} --context ${o.context} ${kube}`;
          if (made.exitCode !== 0) throw new InfraError(`creating namespace ${r.namespace}: ${tail(made)}`);
          await sh`${kubectl} label namespace ${r.namespace} ${INSTALLED_BY}=meshcheck --context ${o.context} ${kube}`;
        }
      }
      const values = join(dir, `${r.release}.yaml`);
      // An identity already installed is kept: a new trust anchor would cut off every running proxy.
      const keep = upgrade && r.identity !== undefined;
      writeFileSync(values, stringify(keep ? r.values ?? {} : await valuesOf(r)), { mode: 0o600 });
      const args = ['upgrade', '--install', r.release, local ?? r.chart, ...(local ? [] : ['--repo', r.repo, '--version', r.version]), '--namespace', r.namespace, '--kube-context', o.context, ...kube, ...(keep ? ['--reuse-values'] : []), '--values', values, '--wait', '--timeout', o.timeout];
      if (o.dryRun) {
        o.log(`${step}: ${[helm, ...args].join(' ')}`);
        continue;
      }
      o.log(`${step}: installing, waiting until ready (up to ${o.timeout})`);
      const t0 = performance.now();
      const out = await sh`${helm} ${args}`;
      if (out.exitCode !== 0) throw new InfraError(`helm upgrade --install ${r.release} (${r.chart} ${r.version}) in ${r.namespace} failed:\n${tail(out)}`);
      o.log(`${step}: ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      done.push(r.release);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const mesh = profiles.find((p) => p.run);
  if (mesh) o.log(`next: meshcheck run --target kube --context ${o.context} ${mesh.run}${profiles.some((p) => p.name === 'prometheus') ? ' --prometheus-service monitoring/prometheus-server:80' : ''}`);
  return done;
}

/** `meshcheck install --uninstall`: the profiles' releases in reverse order, then the namespaces install created. */
export async function uninstall(o: Omit<InstallOptions, 'charts'>): Promise<void> {
  const profiles: Profile[] = o.profiles.map((p) => loadProfile(p));
  const [helm, kubectl] = o.dryRun ? ['helm', 'kubectl'] : [await findTool('helm'), await findTool('kubectl')];
  const kube = ['--kubeconfig', o.kubeconfig];
  const sh = $({ quiet: true, nothrow: true });
  const releases = profiles.flatMap((p) => p.releases).reverse();
  for (const r of releases) {
    const args = ['uninstall', r.release, '--namespace', r.namespace, '--kube-context', o.context, ...kube, '--wait', '--timeout', o.timeout, '--ignore-not-found'];
    if (o.dryRun) {
      o.log(`${[helm, ...args].join(' ')}`);
      continue;
    }
    o.log(`uninstalling ${r.release} from ${r.namespace}`);
    const out = await sh`${helm} ${args}`;
    if (out.exitCode !== 0) throw new InfraError(`helm uninstall ${r.release} in ${r.namespace} failed:\n${tail(out)}`);
  }
  for (const ns of [...new Set(releases.map((r) => r.namespace))]) {
    const args = ['delete', 'namespace', '--context', o.context, ...kube, '-l', `${INSTALLED_BY}=meshcheck`, '--field-selector', `metadata.name=${ns}`, '--wait=true'];
    if (o.dryRun) {
      o.log(`${[kubectl, ...args].join(' ')}`);
      continue;
    }
    const out = await sh`${kubectl} ${args}`;
    if (out.exitCode !== 0) throw new InfraError(`deleting namespace ${ns}: ${tail(out)}`);
    if (out.stdout.trim()) o.log(out.stdout.trim());
  }
}
