import { BOOKINFO, LOAD_CLIENT } from '../app/topology.js';
import { defaults as DEFAULTS } from '../config.js';
import { UsageError } from '../errors.js';
import type { DataPlaneChoice, Mesh, RenderContext } from './types.js';
import { istio } from './istio/mesh.js';
import { ISTIO_DATA_PLANES } from './istio/data-planes.js';
import { linkerd } from './linkerd/mesh.js';
import { consul } from './consul/mesh.js';
import { osm } from './osm/mesh.js';
import { none } from './none/mesh.js';
import { reference } from './reference/mesh.js';
import { atLeast } from './version.js';

/** The meshes meshcheck renders for, in report order. */
export const MESHES: readonly Mesh[] = [istio, linkerd, consul, osm, none];
export const MESH_NAMES = MESHES.map((a) => a.name);

/** The reference mesh: meshcheck's own sidecars, on the local target only. */
export const REFERENCE = reference;

/** The meshes with more than one data plane: each data plane's own folder says what runs where. */
const DATA_PLANES: Readonly<Record<string, readonly DataPlaneChoice[]>> = { istio: ISTIO_DATA_PLANES };

/** A mesh's data planes; one with a single one has its sidecars (or none) on the kube target. */
export function dataPlanesOf(mesh: Mesh): readonly DataPlaneChoice[] {
  return DATA_PLANES[mesh.name] ?? [{ name: 'sidecar', mesh, targets: { kube: `${mesh.title} as installed on the cluster` } }];
}

/** The data plane `--data-plane NAME` names for a mesh on a target (the first it has there when not given). */
export function dataPlaneFor(mesh: Mesh, target: 'local' | 'kube', name?: string): DataPlaneChoice {
  const there = dataPlanesOf(mesh).filter((d) => d.targets[target]);
  const found = name ? there.find((d) => d.name === name) : there[0];
  if (!found)
    throw new UsageError(
      `--data-plane ${name}: ${mesh.title} on the ${target} target has ${
        there.map((d) => `"${d.name}" (${d.targets[target]})`).join(', ') || 'no data plane meshcheck runs'
      }`,
    );
  return found;
}

/** A mesh's other data planes, each with its own support levels: Istio's proxyless gRPC. */
export const OTHER_DATA_PLANES: Readonly<Record<string, readonly Mesh[]>> = Object.fromEntries(
  Object.entries(DATA_PLANES).map(([name, planes]) => [name, planes.map((d) => d.mesh).filter((m) => m.dataPlane)]),
);

/** One of a mesh's other data planes, by its name ("proxyless gRPC"). */
export function dataPlaneOf(mesh: string, dataPlane: string): Mesh {
  const found = OTHER_DATA_PLANES[mesh]?.find((m) => m.dataPlane === dataPlane);
  if (!found) throw new UsageError(`${mesh} has no data plane "${dataPlane}" meshcheck knows`);
  return found;
}

/** "istio" or "istio@1.21": the mesh and its version (its default when not given). */
export function meshFor(spec: string): { mesh: Mesh; version: string } {
  const [name, version] = spec.split('@') as [string, string | undefined];
  const adapter = MESHES.find((a) => a.name === name);
  if (!adapter) throw new UsageError(`--mesh ${spec}: unknown mesh "${name}"; known: ${MESH_NAMES.join(', ')} (and "reference" for the local target)`);
  const v = version ?? adapter.defaultVersion;
  if (!/^\d+\.\d+(\.\d+)?(\+ent)?$/.test(v) && adapter.name !== 'none') throw new UsageError(`--mesh ${spec}: version "${v}" is not MAJOR.MINOR (for example ${adapter.name}@${adapter.defaultVersion})`);
  if (adapter.name !== 'none' && (!atLeast(v, adapter.versionRange.min) || (atLeast(v, adapter.versionRange.max) && !atLeast(adapter.versionRange.max, v)))) {
    throw new UsageError(`--mesh ${spec}: meshcheck knows ${adapter.title} ${adapter.versionRange.min} to ${adapter.versionRange.max}`);
  }
  return { mesh: adapter, version: v };
}

/** The render context for the bundled application in a namespace. */
export function appContext(
  namespace: string,
  meshVersion: string,
  runId?: string,
  images: { imageMirror?: string; appImage?: string; envoyImage?: string; proxylessImage?: string } = {},
): RenderContext {
  return {
    namespace,
    meshVersion,
    services: BOOKINFO,
    loadClient: LOAD_CLIENT,
    port: 9080,
    directPort: 9081,
    trustDomain: DEFAULTS.trustDomain,
    ...(runId ? { runId } : {}),
    ...(images.imageMirror ? { imageMirror: images.imageMirror } : {}),
    ...(images.appImage ? { appImage: images.appImage } : {}),
    ...(images.envoyImage ? { envoyImage: images.envoyImage } : {}),
    ...(images.proxylessImage ? { proxylessImage: images.proxylessImage } : {}),
  };
}

/** A measured mesh's type in the Service Mesh Performance spec, where the spec names it. */
export function smpMeshType(mesh: string): string | undefined {
  return MESHES.find((m) => m.name === mesh)?.smpType;
}

/** The pod labels and annotations that keep a pod out of every mesh meshcheck knows (no sidecar injected). */
export function outsideEveryMesh(): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: Object.assign({}, ...MESHES.map((m) => m.optOut.labels ?? {})) as Record<string, string>,
    annotations: Object.assign({}, ...MESHES.map((m) => m.optOut.annotations ?? {})) as Record<string, string>,
  };
}
