import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { $, which, type ProcessOutput } from 'zx';
import type { V1Pod } from '@kubernetes/client-node';
import { InfraError, UsageError } from '../errors.js';
import { istioFilesDir, osmFiles, toolsBin } from '../util/tools.js';
import { helmTooOld } from './helm-version.js';
import { MESHES } from '../meshes/registry.js';
import { atMinor, atRevision, loadProfile, setPath, type Profile, type Release } from './profiles.js';
import { imageRef } from '../kube/images.js';
import { NODE_IMAGES_CONFIGMAP } from '../cluster/settings.js';
import { whyNotReady } from '../kube/pods.js';

/** The label `meshcheck install` puts on the namespaces it creates, so `uninstall` deletes only those. */
export const INSTALLED_BY = 'meshcheck.io/installed-by';

export interface InstallOptions {
  context: string;
  kubeconfig: string;
  /** Profiles to install, in order (the mesh, then add-ons such as prometheus). */
  profiles: string[];
  /** The mesh's minor (--mesh MESH@MINOR): its profile at that minor's pinned release (atMinor). */
  minor?: string;
  /** --revision REV: the mesh's per-revision releases as RELEASE-REV beside the others (atRevision). */
  revision?: string;
  /** A folder holding each chart by name (CHARTS/<chart>), for clusters that cannot reach the chart repositories. */
  charts?: string;
  /** The add-ons are the default ones (no --with): on meshcheck's node, one it has no chart for is left out, saying so. */
  defaultAddOns?: boolean;
  /** Print the commands without running them. */
  dryRun?: boolean;
  /** helm --timeout for each release to be ready. */
  timeout: string;
  /** A registry that mirrors the profiles' pinned images (--image-mirror). */
  imageMirror?: string;
  /** RELEASE.PATH=VALUE settings (--set), over everything else. */
  set?: string[];
  /** The data plane the runs will use (--data-plane), named in the run command install prints. */
  dataPlane?: string;
  log: (m: string) => void;
}

/** helm or kubectl: on PATH, else the one scripts/build-kube-tools.sh built; an error that says how to get it. */
export async function findTool(name: 'helm' | 'kubectl'): Promise<string> {
  const onPath = await which(name, { nothrow: true });
  if (onPath) return onPath;
  const built = join(toolsBin(), name);
  if (existsSync(built)) return built;
  const how = name === 'helm' ? 'install Helm 3.14 or later, or Helm 4 (https://helm.sh/docs/intro/install/)' : 'install kubectl (https://kubernetes.io/docs/tasks/tools/)';
  throw new InfraError(`${name} is not installed (not on PATH, not in ${toolsBin()}): ${how}, or run: bash scripts/build-kube-tools.sh (builds it from the Go module proxy)`);
}

/** A release's chart in a --charts folder: CHARTS/<chart> (unpacked) or CHARTS/<chart>-<version>.tgz (as `helm pull` names it). */
function localChart(dir: string, r: Release): string {
  for (const p of [join(dir, r.chart), join(dir, `${r.chart}-${r.version}.tgz`)]) if (existsSync(p)) return p;
  throw new UsageError(`--charts ${dir}: neither ${r.chart}/ nor ${r.chart}-${r.version}.tgz is there (helm pull ${r.chart} --repo ${r.repo} --version ${r.version} makes the archive)`);
}

/**
 * On meshcheck's node, Istio's own charts from the source its istiod image was built from
 * (scripts/build-istio.sh copies them next to the tools, in a folder named by the module version,
 * whose commit the image's tag ends with); undefined elsewhere or when they are not there.
 */
export function nodeChartsDir(node: Record<string, string> | undefined, root?: string, minor?: string): string | undefined {
  return istioFilesDir(nodeImage(node, 'istio-pilot', minor)?.split(':').pop()?.split('-').pop(), root);
}

/** The minor an image of the node is of, from its tag ("istio-pilot:1.30-dev-9739e10eb9d7" is 1.30). */
const minorOfTag = (ref: string | undefined) => /:(\d+\.\d+)/.exec(ref ?? '')?.[1];

/**
 * The node's image of a key, of one minor where asked: the node names another minor's image with it
 * (`istio-pilot-1.30`) and its default minor's without; undefined when the node has no such image.
 */
export function nodeImage(node: Record<string, string> | undefined, key: string, minor?: string): string | undefined {
  if (!minor) return node?.[key];
  return node?.[`${key}-${minor}`] ?? (minorOfTag(node?.[key]) === minor ? node?.[key] : undefined);
}

/**
 * Every folder of charts meshcheck's node has: Istio's (above), and OSM's from the module its control
 * plane images were built from (scripts/build-osm.sh), when the node's OSM images are of that version.
 */
function nodeChartDirs(node: Record<string, string> | undefined, minor?: string): string[] {
  const osm = osmFiles();
  const osmOnNode = node?.['osm-controller']?.endsWith(`:${osm.version}`) && existsSync(osm.chart);
  return [nodeChartsDir(node, undefined, minor), osmOnNode ? dirname(osm.chart) : undefined].filter((d): d is string => !!d);
}

/** helm (new enough) and kubectl. */
async function tools(): Promise<[string, string]> {
  const [helm, kubectl] = [await findTool('helm'), await findTool('kubectl')];
  const old = helmTooOld((await $({ quiet: true, nothrow: true })`${helm} version --short`).stdout);
  if (old) throw new InfraError(`${old} (${helm}); or run: bash scripts/build-kube-tools.sh, which builds Helm 4`);
  return [helm, kubectl];
}

/** Where a release's chart comes from: a --charts folder, meshcheck's node's own copy, or (neither) its repository. */
function chartOf(r: Release, charts: string | undefined, nodeCharts: string[]): { local?: string; from?: string } {
  if (charts) return { local: localChart(charts, r), from: '--charts' };
  const onNode = nodeCharts.map((d) => join(d, r.chart)).find((c) => existsSync(c));
  if (onNode) return { local: onNode, from: "meshcheck's node" };
  return {};
}

/** The run command for what was installed: on the node's charts, the Istio version its images were built at; Prometheus only if it is there. */
function nextRun(mesh: Profile, profiles: Profile[], o: { context: string; skipped: string[]; nodeMinor?: string; dataPlane?: string }): string {
  const run = o.nodeMinor && mesh.name === 'istio' ? mesh.run!.replace(/@[\d.]+/, `@${o.nodeMinor}`) : mesh.run;
  const prometheus = profiles.find((p) => p.name === 'prometheus')?.releases.every((r) => !o.skipped.includes(r.release));
  return `meshcheck run --target kube --context ${o.context} ${run}${o.dataPlane ? ` --data-plane ${o.dataPlane}` : ''}${prometheus ? ' --prometheus-service monitoring/prometheus-server:80' : ''}`;
}

/**
 * The version of the chart install puts on the cluster: a --charts folder's own (its Chart.yaml; an
 * archive is named by the pinned version), else the pinned one.
 */
function chartVersion(local: string | undefined, r: Release): string {
  if (!local || local.endsWith('.tgz')) return r.version;
  const file = join(local, 'Chart.yaml');
  const version = (parse(readFileSync(file, 'utf8')) as { version?: unknown } | null)?.version;
  if (typeof version !== 'string' && typeof version !== 'number') throw new UsageError(`--charts: ${file} has no version`);
  return String(version);
}

/** Who installed a CRD, by the annotations helm puts on what it installs; undefined when the cluster has no such CRD. */
async function crdOwner(kubectl: string, kube: string[], context: string, crd: string): Promise<{ release?: string; namespace?: string; bundle?: string } | undefined> {
  const got = await $({ quiet: true, nothrow: true })`${kubectl} get crd ${crd} --context ${context} ${kube} -o json`;
  if (got.exitCode !== 0) {
    if (/NotFound|not found/.test(got.stderr)) return undefined;
    throw new InfraError(`reading CRD ${crd}: ${tail(got)}`);
  }
  const a = (JSON.parse(got.stdout) as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations ?? {};
  return { release: a['meta.helm.sh/release-name'], namespace: a['meta.helm.sh/release-namespace'], bundle: a['gateway.networking.k8s.io/bundle-version'] };
}

/** The CRDs a release installed that are still there after its uninstall (a chart can mark them to be kept). */
async function keptCrds(kubectl: string, kube: string[], context: string, r: Release): Promise<string[]> {
  const got = await $({ quiet: true, nothrow: true })`${kubectl} get crd --context ${context} ${kube} -o json`;
  if (got.exitCode !== 0) return [];
  const items = (JSON.parse(got.stdout) as { items: { metadata: { name: string; annotations?: Record<string, string> } }[] }).items;
  return items.filter((c) => c.metadata.annotations?.['meta.helm.sh/release-name'] === r.release && c.metadata.annotations['meta.helm.sh/release-namespace'] === r.namespace).map((c) => c.metadata.name);
}

/** Whether a CRD's owner (crdOwner) is the release itself. */
const cameWith = (owner: { release?: string; namespace?: string } | undefined, r: Release): boolean => owner?.release === r.release && owner.namespace === r.namespace;

/** What a failed command printed last, for the error. */
function tail(p: ProcessOutput): string {
  return `${p.stderr}\n${p.stdout}`.trim().split('\n').slice(-8).join('\n');
}

/** The values a release is installed with: the profile's, plus what meshcheck generates (a mesh's identity). */
async function valuesOf(r: Release): Promise<Record<string, unknown>> {
  const values = structuredClone(r.values ?? {});
  const identity = r.identity ? MESHES.find((m) => m.name === r.identity)?.install?.identity : undefined;
  return identity ? identity(values) : values;
}

/** `--set RELEASE.PATH=VALUE` entries, checked against the profiles' releases: by release, [path, value]. */
export function parseSets(sets: readonly string[], releases: readonly string[]): Map<string, [string, string][]> {
  const out = new Map<string, [string, string][]>();
  for (const s of sets) {
    const m = /^([a-z0-9-]+)\.([A-Za-z0-9_.-]+)=(.*)$/.exec(s);
    if (!m) throw new UsageError(`--set ${s}: expected RELEASE.PATH=VALUE, e.g. istiod.global.logging.level=default:debug`);
    if (!releases.includes(m[1]!)) throw new UsageError(`--set ${s}: no release "${m[1]}" in these profiles (${releases.join(', ')})`);
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), [m[2]!, m[3]!]]);
  }
  return out;
}

/**
 * The values that depend on a CRD (Release.whenCrdMissing), in a second values file that helm merges
 * over the first: the --values arguments, or none when the cluster's own CRD is used as it is.
 */
async function whenCrdMissingFile(r: Release, o: Pick<InstallOptions, 'dryRun' | 'context' | 'log'> & { kubectl: string; kube: string[]; dir: string; step: string }): Promise<string[]> {
  if (!r.whenCrdMissing) return [];
  const { crd, values: extra } = r.whenCrdMissing;
  const set = stringify(extra, { collectionStyle: 'flow' }).trim();
  if (o.dryRun) {
    o.log(`${o.step}: where the cluster has no CRD ${crd} (or it is this release's), also ${set}`);
    return [];
  }
  const owner = await crdOwner(o.kubectl, o.kube, o.context, crd);
  if (owner && !cameWith(owner, r)) {
    o.log(`${o.step}: CRD ${crd} is on the cluster already${owner.bundle ? ` (bundle ${owner.bundle})` : ''}, ${owner.release ? `from release ${owner.namespace}/${owner.release}` : 'not from helm'}: used as it is, not installed by this chart`);
    return [];
  }
  const file = join(o.dir, `${r.release}-when-crd-missing.yaml`);
  writeFileSync(file, stringify(extra));
  o.log(`${o.step}: ${owner ? `CRD ${crd} came with this release: kept` : `the cluster has no CRD ${crd}: the chart installs it`} (${set})`);
  return ['--values', file];
}

/**
 * Puts the release's images (releaseImages), on meshcheck's node its node values, and its --set values
 * into its values; says which images and node values, from where.
 */
export function withImagesAndSets(
  values: Record<string, unknown>, r: Release, from: { node?: Record<string, string>; mirror?: string }, sets: [string, string][],
): string | undefined {
  const images = releaseImages(r, from);
  for (const i of images) setPath(values, i.value, i.image);
  const nodeValues = from.node ? Object.entries(r.nodeValues ?? {}) : [];
  for (const [path, value] of nodeValues) setPath(values, path, value);
  // Typed as `helm --set` types them: true/false, numbers and null are not strings.
  for (const [path, value] of sets) setPath(values, path, /^(true|false|null|-?\d+(\.\d+)?)$/.test(value) ? parse(value) : value);
  const said = [
    ...(images.length ? [`images ${images.map((i) => `${i.value}=${i.image}`).join(', ')} (${[...new Set(images.map((i) => i.from))].join(', ')})`] : []),
    ...(nodeValues.length ? [`values for meshcheck's node ${nodeValues.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`] : []),
  ];
  return said.length ? said.join('; ') : undefined;
}

/** Why the pods of a namespace are not ready (helm says only that its wait ran out). */
async function podsNotReady(kubectl: string, kube: string[], context: string, namespace: string): Promise<string[]> {
  const pods = await $({ quiet: true, nothrow: true })`${kubectl} get pods -n ${namespace} --context ${context} ${kube} -o json`;
  if (pods.exitCode !== 0) return [];
  return (JSON.parse(pods.stdout) as { items: V1Pod[] }).items.filter((p) => !p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((p) => `${p.metadata?.name}: ${whyNotReady(p)}`);
}

/** The images meshcheck's own node has (cluster up), or undefined on any other cluster. */
async function nodeImages(kubectl: string, kube: string[], context: string): Promise<Record<string, string> | undefined> {
  const got = await $({ quiet: true, nothrow: true })`${kubectl} get configmap ${NODE_IMAGES_CONFIGMAP.name} -n ${NODE_IMAGES_CONFIGMAP.namespace} --context ${context} ${kube} -o json`;
  return got.exitCode === 0 ? (JSON.parse(got.stdout) as { data?: Record<string, string> }).data : undefined;
}

/**
 * The image each declared chart value gets, and where from: meshcheck's node's own (it pulls from no
 * registry), else the pinned image from --image-mirror; none otherwise (the chart's default stays).
 */
export function releaseImages(r: Release, o: { node?: Record<string, string>; mirror?: string }): { value: string; image: string; from: string }[] {
  return (r.images ?? []).flatMap((i) => {
    const local = i.node ? nodeImage(o.node, i.node, i.minor) : undefined;
    if (local) return [{ value: i.value, image: local, from: 'meshcheck\'s node' }];
    if (i.node && i.minor && o.node) {
      const has = Object.keys(o.node).filter((k) => k === i.node || k.startsWith(`${i.node}-`)).map((k) => minorOfTag(o.node![k])).filter(Boolean);
      throw new UsageError(`meshcheck's node has no ${i.node} image of ${i.minor} (it has ${has.join(', ') || 'none'}): scripts/build-istio.sh builds the minors it pins, and \`meshcheck cluster up\` imports them`);
    }
    if (o.mirror) return [{ value: i.value, image: imageRef(i.image, o.mirror), from: '--image-mirror' }];
    return [];
  });
}

/** The profiles to install: the mesh's first, at the minor and revision asked for, then the add-ons. */
function meshAndAddOns(o: Pick<InstallOptions, 'profiles' | 'minor' | 'revision'>): Profile[] {
  return o.profiles.map((name, n) => {
    let p = loadProfile(name);
    if (n === 0 && o.minor !== undefined) p = atMinor(p, o.minor);
    if (n === 0 && o.revision !== undefined) p = atRevision(p, o.revision);
    return p;
  });
}

/**
 * `meshcheck install`: each profile's Helm releases in order, with helm (upgrade --install, --wait)
 * and kubectl driven by zx: the pinned chart versions from their repositories (or --charts), a
 * namespace created (and labelled) where missing. A release already deployed at the chart's version
 * (the pinned one, or the --charts folder's) is left as it is, so running it again changes nothing;
 * one at another version is upgraded, keeping the identity it was installed with (a mesh's trust
 * anchor and issuer).
 */
export async function install(o: InstallOptions): Promise<string[]> {
  const profiles = meshAndAddOns(o);
  if (o.charts && !existsSync(o.charts)) throw new UsageError(`--charts ${o.charts}: no such folder`);
  const [helm, kubectl] = o.dryRun ? ['helm', 'kubectl'] : await tools();
  const kube = ['--kubeconfig', o.kubeconfig];
  const all = profiles.flatMap((p) => p.releases.map((r) => ({ p, r })));
  const sets = parseSets(o.set ?? [], all.map(({ r }) => r.release));
  const node = o.dryRun ? undefined : await nodeImages(kubectl, kube, o.context);
  // No chart repository is reachable from meshcheck's node's machine as a rule: its own charts, unless --charts says.
  const nodeCharts = o.charts ? [] : nodeChartDirs(node, o.minor);
  const dir = mkdtempSync(join(tmpdir(), 'meshcheck-install-'));
  const done: string[] = [];
  const skipped: string[] = [];
  const sh = $({ quiet: true, nothrow: true });
  try {
    for (const [n, { p, r }] of all.entries()) {
      const { local, from } = chartOf(r, o.charts, nodeCharts);
      if (o.defaultAddOns && node && !p.run && !local) {
        skipped.push(r.release);
        o.log(`${p.name}: not installed on meshcheck's node: its chart ${r.chart} comes from ${r.repo}, and the node has no copy of it; --with ${p.name} --charts DIR installs it from a folder`);
        continue;
      }
      const version = chartVersion(local, r);
      const step = `[${n + 1}/${all.length}] ${p.name}: ${r.release} (chart ${r.chart} ${version}${from ? ` from ${from}` : ''}) in ${r.namespace}`;
      if (version !== r.version) o.log(`${step}: the profile pins ${r.version}; installing the chart from ${from === '--charts' ? from : `${from} (${local})`} as it is`);
      let upgrade = false;
      if (!o.dryRun) {
        // The release's chart version and status (helm 3.13 and later; `status -o json` of helm 4 no longer has the chart).
        const status = await sh`${helm} get metadata ${r.release} --namespace ${r.namespace} --kube-context ${o.context} ${kube} -o json`;
        if (status.exitCode === 0) {
          const s = JSON.parse(status.stdout) as { status?: string; version?: string };
          if (s.status === 'deployed' && s.version === version) {
            o.log(`${step}: deployed already, left as it is`);
            continue;
          }
          o.log(`${step}: ${s.version ?? 'another version'} is ${s.status ?? 'there'}: upgrading`);
          upgrade = true;
        } else if (!/not found/.test(status.stderr)) {
          throw new InfraError(`helm get metadata ${r.release} in ${r.namespace}: ${tail(status)}`);
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
      // The new chart's defaults come first, then the values of the release as it was installed (the
      // identity among them), then the profile's: a chart version that adds a value has its default.
      const keep = upgrade && r.identity !== undefined;
      const chosen = keep ? r.values ?? {} : await valuesOf(r);
      const extraFile = await whenCrdMissingFile(r, { ...o, kubectl, kube, dir, step });
      const images = withImagesAndSets(chosen, r, { node, mirror: o.imageMirror }, sets.get(r.release) ?? []);
      if (images) o.log(`${step}: ${images}`);
      writeFileSync(values, stringify(chosen), { mode: 0o600 });
      const args = ['upgrade', '--install', r.release, local ?? r.chart, ...(local ? [] : ['--repo', r.repo, '--version', r.version]), '--namespace', r.namespace, '--kube-context', o.context, ...kube, ...(keep ? ['--reset-then-reuse-values'] : []), '--values', values, ...extraFile, '--wait', '--timeout', o.timeout];
      if (o.dryRun) {
        o.log(`${step}: ${[helm, ...args].join(' ')}`);
        continue;
      }
      o.log(`${step}: installing, waiting until ready (up to ${o.timeout})`);
      const t0 = performance.now();
      const out = await sh`${helm} ${args}`;
      if (out.exitCode !== 0) {
        const why = await podsNotReady(kubectl, kube, o.context, r.namespace);
        throw new InfraError(`helm upgrade --install ${r.release} (chart ${r.chart} ${version}${local ? ` from ${local}` : ''}) in ${r.namespace} failed:\n${tail(out)}${why.length ? `\npods not ready in ${r.namespace}:\n  ${why.join('\n  ')}` : ''}`);
      }
      o.log(`${step}: ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      done.push(r.release);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const mesh = profiles.find((p) => p.run);
  const nodeMinor = nodeChartsDir(node, undefined, o.minor) ? minorOfTag(nodeImage(node, 'istio-pilot', o.minor)) : undefined;
  if (mesh) o.log(`next: ${nextRun(mesh, profiles, { context: o.context, skipped, nodeMinor, dataPlane: o.dataPlane })}`);
  return done;
}

/** `meshcheck install --uninstall`: the profiles' releases in reverse order, then the namespaces install created. */
export async function uninstall(o: Omit<InstallOptions, 'charts'>): Promise<void> {
  const all = meshAndAddOns(o);
  // One revision: its own releases only; the shared ones (and the namespaces) serve the revisions left.
  const profiles = o.revision ? all.slice(0, 1).map((p) => ({ ...p, releases: p.releases.filter((r) => r.revision) })) : all;
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
    const crd = r.whenCrdMissing?.crd;
    const owner = crd ? await crdOwner(kubectl, kube, o.context, crd) : undefined;
    const alsoCrd = cameWith(owner, r) ? ` (and CRD ${crd}, which came with it, with every object of its kind)` : '';
    o.log(`uninstalling ${r.release} from ${r.namespace}${alsoCrd}`);
    const out = await sh`${helm} ${args}`;
    if (out.exitCode !== 0) throw new InfraError(`helm uninstall ${r.release} in ${r.namespace} failed:\n${tail(out)}`);
    const kept = await keptCrds(kubectl, kube, o.context, r);
    if (kept.length) o.log(`${r.release}: ${kept.length} CRDs stay (the chart marks them helm.sh/resource-policy: keep), with every object of their kinds: ${kept.join(', ')}; kubectl delete crd NAME... removes them`);
  }
  for (const ns of o.revision ? [] : [...new Set(releases.map((r) => r.namespace))]) {
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
