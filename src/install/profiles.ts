import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { UsageError } from '../errors.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { MESHES } from '../meshes/registry.js';

/** One Helm release of an install profile (clusters/profiles/<name>.yaml). */
export interface Release {
  release: string;
  namespace: string;
  /** The chart repository's URL (helm --repo): no `helm repo add` on the user's machine. */
  repo: string;
  chart: string;
  /** The pinned chart version. */
  version: string;
  values?: Record<string, unknown>;
  /** The mesh whose identity (a trust anchor and an issuer) meshcheck generates for the chart (Mesh.install.identity). */
  identity?: string;
  /**
   * Values that apply only where the cluster lacks a CRD, or has it from this very release (helm
   * merges them over the others):
   * a chart that can install CRDs another project owns (a mesh's CRD chart and the Gateway API's) installs
   * them on a cluster that has none, and leaves alone the ones someone else installed.
   */
  whenCrdMissing?: { crd: string; values: Record<string, unknown> };
  /**
   * The images the chart runs, each at its value path: set from `--image-mirror` (the pinned image
   * from the mirror) or, on meshcheck's own node, the node's image of that key; else the chart's default.
   */
  images?: ReleaseImage[];
  /**
   * Values on meshcheck's own node only, by dotted path, over the others (--set still wins): what the
   * images the node builds need in place of the public ones (its Istio sidecar is upstream Envoy).
   */
  nodeValues?: Record<string, unknown>;
  /**
   * The value path of the chart's revision, for a release that runs once per revision (istiod): with
   * `install --revision REV` it is installed as RELEASE-REV with that value set, beside the others.
   * Releases without it are shared by every revision.
   */
  revision?: string;
}

export interface ReleaseImage {
  /** Dotted path of the chart value that holds the full image reference, e.g. global.proxy.image. */
  value: string;
  /** The pinned public image. */
  image: string;
  /** Its key among the images meshcheck's node builds (kube-public/meshcheck-node-images), if it builds one. */
  node?: string;
  /** The mesh's minor the node's image must be of (set by atMinor): the node keeps one image per minor it built. */
  minor?: string;
}

export interface Profile {
  /** The profile's file name without .yaml: a mesh, or an add-on (prometheus, metrics-server). */
  name: string;
  title: string;
  /** The `meshcheck run` flags that match this install. */
  run?: string;
  releases: Release[];
  /**
   * The minors `install --mesh MESH@MINOR` can install, each with its pinned release: every release's
   * chart and every pinned image tag at that release (the mesh's charts are versioned with the mesh).
   */
  minors?: Record<string, string>;
  file: string;
}

export const PROFILES_DIR = join(PACKAGE_ROOT, 'clusters', 'profiles');

/** The names of the profiles in clusters/profiles. */
export function profileNames(dir = PROFILES_DIR): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
}

/** A profile, checked: each release names its chart, repository, pinned version and namespace. */
export function loadProfile(name: string, dir = PROFILES_DIR): Profile {
  const file = join(dir, `${name}.yaml`);
  if (!existsSync(file)) throw new UsageError(`no install profile "${name}" (clusters/profiles has ${profileNames(dir).join(', ')})`);
  const raw = parse(readFileSync(file, 'utf8')) as Partial<Profile> | null;
  const where = (n: number, field: string) => `${file}: releases[${n}].${field}`;
  if (!raw?.title || !Array.isArray(raw.releases) || raw.releases.length === 0) throw new UsageError(`${file}: a profile needs a title and at least one release`);
  raw.releases.forEach((r, n) => {
    for (const field of ['release', 'namespace', 'repo', 'chart', 'version'] as const) {
      if (typeof r[field] !== 'string' && typeof r[field] !== 'number') throw new UsageError(`${where(n, field)} is missing`);
    }
    r.version = String(r.version);
    if (!/^v?\d+\.\d+\.\d+/.test(r.version)) throw new UsageError(`${where(n, 'version')} "${r.version}" is not a pinned version`);
    const identities = MESHES.filter((m) => m.install?.identity).map((m) => `"${m.name}"`);
    if (r.identity !== undefined && !identities.includes(`"${String(r.identity)}"`)) throw new UsageError(`${where(n, 'identity')} "${String(r.identity)}": only ${identities.join(', ')} ${identities.length === 1 ? 'is' : 'are'} known`);
    for (const [k, i] of (r.images ?? []).entries()) {
      if (typeof i?.value !== 'string' || typeof i.image !== 'string' || !i.image.includes('/')) throw new UsageError(`${where(n, `images[${k}]`)} needs value (a dotted value path) and image (a full image reference)`);
    }
    const nv = r.nodeValues;
    if (nv !== undefined && (typeof nv !== 'object' || nv === null || Array.isArray(nv) || Object.values(nv).some((v) => typeof v === 'object' && v !== null))) {
      throw new UsageError(`${where(n, 'nodeValues')} needs a map of dotted value paths to plain values, e.g. telemetry.enabled: false`);
    }
    if (r.revision !== undefined && typeof r.revision !== 'string') throw new UsageError(`${where(n, 'revision')} needs the dotted path of the chart's revision value`);
    const w = r.whenCrdMissing;
    if (w !== undefined && (typeof w?.crd !== 'string' || !w.crd.includes('.') || typeof w.values !== 'object' || w.values === null || Array.isArray(w.values))) {
      throw new UsageError(`${where(n, 'whenCrdMissing')} needs crd (a CRD's name, <plural>.<group>) and values (a map)`);
    }
  });
  const minors = raw.minors;
  if (minors !== undefined) {
    const ok = typeof minors === 'object' && minors !== null && Object.entries(minors).every(([m, v]) => /^\d+\.\d+$/.test(m) && new RegExp(`^${m.replace('.', '\\.')}\\.\\d+$`).test(String(v)));
    if (!ok) throw new UsageError(`${file}: minors needs a map of minors to their pinned releases, e.g. "1.30": 1.30.3`);
  }
  return { name, title: raw.title, ...(raw.run ? { run: raw.run } : {}), releases: raw.releases as Release[], ...(minors ? { minors } : {}), file };
}

/**
 * The profile at one of its minors: each release's chart at that minor's pinned release, each pinned
 * image tagged with it and, on meshcheck's node, the node's image of that minor; the run command and
 * title name it. A minor the profile does not list is a usage error naming the ones it does.
 */
export function atMinor(p: Profile, minor: string): Profile {
  const release = p.minors?.[minor];
  if (!release) throw new UsageError(`--mesh ${p.name}@${minor}: install pins ${p.minors ? Object.keys(p.minors).map((m) => `${p.name}@${m}`).join(', ') : `only one version of ${p.name}`} (${p.file})`);
  const base = p.releases[0]!.version;
  return {
    ...p,
    title: p.title.replace(base, release),
    ...(p.run ? { run: p.run.replace(/@[\d.]+/, `@${minor}`) } : {}),
    releases: p.releases.map((r) => ({
      ...r,
      version: release,
      ...(r.images ? { images: r.images.map((i) => ({ ...i, image: i.image.replace(/:[^:/]+$/, `:${release}`), minor })) } : {}),
    })),
  };
}

/** A revision name as Istio takes it: a DNS label (it becomes part of object names and the istio.io/rev label). */
const REVISION = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The profile for one revision (`install --revision REV`): each release that runs once per revision
 * renamed RELEASE-REV with its revision value set to REV; shared releases as they are. A profile with
 * no revisioned release, or a malformed name, is a usage error.
 */
export function atRevision(p: Profile, revision: string): Profile {
  if (!REVISION.test(revision)) throw new UsageError(`--revision ${revision}: a revision is a DNS label (lower-case letters, digits and -), e.g. 1-31`);
  if (!p.releases.some((r) => r.revision)) throw new UsageError(`--revision ${revision}: ${p.name} has no release installed per revision (${p.file})`);
  return {
    ...p,
    releases: p.releases.map((r) => (r.revision ? { ...r, release: `${r.release}-${revision}`, values: withValue(r.values ?? {}, r.revision, revision) } : r)),
  };
}

/** A copy of a values tree with one dotted path set. */
function withValue(values: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const out = structuredClone(values);
  setPath(out, path, value);
  return out;
}

/** Sets a dotted path in a values tree. */
export function setPath(values: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = values;
  for (const k of keys.slice(0, -1)) {
    if (typeof at[k] !== 'object' || at[k] === null) at[k] = {};
    at = at[k] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]!] = value;
}
