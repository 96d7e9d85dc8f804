import type { Intent } from '../intents/types.js';
import type { ServiceSpec } from '../app/topology.js';
import type { RequestMetric } from '../metrics/promql.js';
import type { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { K8sObject, ObjectContext } from '../kube/objects.js';
import type { Evidence } from '../evidence.js';
import type { OptionSpec } from '../options.js';
import type { Endpoint, SidecarConfig } from '../dataplane/config.js';
import type { SampleReading } from '../load/reading.js';

/** How a mesh can express an intent. */
export type Support =
  | { level: 'native'; via: string }
  | { level: 'emulated'; how: string }
  | { level: 'unsupported'; reason: string };

export type SupportLevel = Support['level'];

/** What a render of one scenario's intents gives: the mesh objects, with a note for each intent. */
export interface Rendered {
  objects: K8sObject[];
  /** Per intent, in input order: its support on this mesh version. */
  intents: { intent: Intent; support: Support }[];
}

/** Everything a render needs besides the intents; renders are pure functions of (intents, context). */
export interface RenderContext extends ObjectContext {
  /** Mesh version, "MAJOR.MINOR" (a patch part is ignored); APIs differ between versions. */
  meshVersion: string;
  /** Services of the application, with their versions and the service each one calls. */
  services: readonly ServiceSpec[];
  /** Service name of the meshed load client. */
  loadClient: string;
  /** Port every application Service listens on. */
  port: number;
  /** The workload's port that the sidecar does not intercept (readiness, behaviour control, the overhead baseline). */
  directPort: number;
  /** Identity trust domain (SPIFFE). */
  trustDomain: string;
  /** A registry that mirrors the public images meshcheck deploys (`--image-mirror`). */
  imageMirror?: string;
  /** The image whose `node` runs the echo workload, instead of the pinned public one (`--app-image`). */
  appImage?: string;
  /** The Envoy image of the fault-emulating backends, instead of the pinned public one (`--envoy-image`). */
  envoyImage?: string;
  /** The image of meshcheck's proxyless gRPC programs, for Istio's proxyless data plane in a cluster (`--proxyless-image`). */
  proxylessImage?: string;
}

/** How a mesh shapes the workload: one Service with version subsets, or one Service per version. */
export type WorkloadShape = 'subsets' | 'service-per-version';

/** A capability some Then steps need beyond intents: the mesh's own metrics, or sidecars to measure. */
export type CheckFeature = 'mesh-metrics' | 'sidecar-usage';

export interface Mesh {
  readonly name: string;
  /** Human name and the versions whose APIs this adapter knows. */
  readonly title: string;
  readonly defaultVersion: string;
  readonly versionRange: { min: string; max: string };
  readonly shape: WorkloadShape;
  /** The data plane the support levels are for, where a mesh has more than one ("proxyless gRPC"); sidecars otherwise. */
  readonly dataPlane?: string;
  /**
   * The objects rendered for no intent must be in effect before any call can succeed, for the whole
   * run (proxyless gRPC: a client speaks mTLS only where a DestinationRule says so). Elsewhere a
   * scenario without intents runs on the mesh's defaults.
   */
  readonly baselineFirst?: boolean;
  /** Where the workload is meshcheck's own program on the mesh's library (proxyless gRPC): how to drive it. */
  readonly ownWorkload?: OwnWorkload;
  /** Why steps needing a capability cannot be checked on this data plane; undefined (or absent) when they can. */
  lacks?(feature: CheckFeature): string | undefined;
  /** Whether and how this mesh expresses an intent (per mesh version). */
  support(intent: Intent, meshVersion?: string): Support;
  /**
   * The support of each intent of one scenario, in order: support() of each, except that an intent the
   * mesh cannot combine with another intent for the same service is unsupported, with the reason.
   */
  supportAll(intents: readonly Intent[], meshVersion?: string): Support[];
  /** The mesh's own objects for a set of intents (one scenario); unsupported intents render nothing. */
  render(intents: Intent | readonly Intent[], ctx: RenderContext): Rendered;
  /** Namespace, Services, ServiceAccounts and Deployments of the application, with this mesh's injection. */
  workload(ctx: RenderContext): K8sObject[];
  /**
   * Running in a cluster: the sidecar's container name (its CPU and memory), and where a pod's own
   * process tells the sidecar to quit (a Job's pod ends only when every container has).
   */
  readonly sidecar?: {
    container: string;
    quitUrl?: string;
    /**
     * Where a pod's own process can ask whether the sidecar has its configuration yet, for meshes that
     * start the app without waiting for it (a load's k6 waits on it before its first request).
     */
    readyUrl?: string;
    /** A command, run in the sidecar's container, that prints its Envoy's config dump (JSON): a scenario's evidence. */
    configDump?: readonly string[];
  };
  /** The pod labels and annotations that keep a pod out of this mesh (no sidecar injected). */
  readonly optOut: { labels?: Record<string, string>; annotations?: Record<string, string> };
  /** The pod annotations that keep this mesh's sidecar off an inbound port (empty without a sidecar). */
  skipInbound(port: number): Record<string, string>;
  /** The mesh's name in the Service Mesh Performance spec's ServiceMesh type, where it has one. */
  readonly smpType?: string;
  /** What `meshcheck install` generates for this mesh's charts (clusters/profiles/<mesh>.yaml). */
  readonly install?: {
    /** Adds an identity the chart needs (a trust anchor and an issuer) to a release's values. */
    identity?(values: Record<string, unknown>): Promise<Record<string, unknown>>;
  };
  /** Options of the kube target that only this mesh reads (e.g. where its control plane's debug port is). */
  readonly clusterOptions?: readonly OptionSpec[];
  /** How this mesh's policy is known to be in effect on a cluster: one watch per run of the kube target (loaded when asked: it brings the Kubernetes client). */
  inEffect(cluster: ClusterAccess): Promise<PolicyWatch>;
  /**
   * The mesh's control plane on a cluster, as clusters/profiles installs it: what "the mesh control
   * plane is stopped" scales to zero (absent without a mesh).
   */
  readonly controlPlane?: { namespace: string; workloads: { kind: 'Deployment' | 'StatefulSet'; name: string }[] };
  /** Where the mesh's proxies count requests by response code (Prometheus); absent without a mesh. */
  readonly requests?: RequestMetric;
  /** Worker threads each proxy runs with as the mesh installs it by default (Envoy's --concurrency), where documented. */
  readonly proxyWorkers?: number;
}

/**
 * A data plane whose workload is meshcheck's own program linked with the mesh's library (proxyless
 * gRPC), not the echo behind a sidecar: how a target drives it and reads what it answers.
 */
export interface OwnWorkload {
  /** The load engine: the program's own client, whatever --load-engine says. */
  readonly engine: string;
  /** How its answers read (gRPC statuses). */
  readonly reading: SampleReading;
  /** The path a call takes, for the overhead report. */
  readonly dataPath: { protocol: string; path: string; dataPlane: string };
  /** Where each instance takes meshcheck's controls in a cluster, and the body for a behaviour. */
  readonly control: { port: number; path: string; body(b: { failStatus?: number; delayMs?: number }): object };
  /** The image of its programs in a cluster (a usage error naming the option when there is none). */
  image(ctx: RenderContext): string;
  /** Where a load pod's agent takes a quit request once the load is done (its pod ends with it). */
  readonly quitUrl?: string;
}

/** One of a mesh's data planes, and what meshcheck runs for it on each target where it runs it. */
export interface DataPlaneChoice {
  /** Its name for --data-plane ("sidecar", "proxyless"). */
  readonly name: string;
  /** The mesh with this data plane's support levels, workload and render. */
  readonly mesh: Mesh;
  readonly targets: Partial<Record<'local' | 'kube', string>>;
  /** Its pods run Envoy, which meshcheck's own node does not have yet (its agent image has none). */
  readonly needsEnvoy?: boolean;
}

/** What a mesh's "in effect" wait can reach on a cluster; the kube target hands it over. */
export interface ClusterAccess {
  kc: KubeConfig;
  client: KubernetesObjectApi;
  /** The run's namespace, where the app and its proxies run. */
  namespace: string;
  /** --mesh as given, for messages. */
  meshSpec: string;
  /** The values of the options this mesh declares for the kube target (Mesh.clusterOptions), by name. */
  options: Readonly<Record<string, string | undefined>>;
  /** How long a wait for the mesh may take. */
  timeoutMs: number;
  /** Restarts the app's pods, for policy a mesh reads only when a pod starts; says how it went. */
  restartApp(why: string): Promise<Seen>;
}

/** One object (or pod, or port) found in effect, and how. */
export interface Seen {
  object: string;
  how: string;
  status?: unknown;
}

/** How a change was found in effect: a phrase for messages ("istiod held it") and the evidence. */
export interface InEffect {
  by: string;
  evidence: Evidence[];
}

/** A change of a scenario's applied objects, prepared before it is made (what the wait compares against). */
export interface PendingChange {
  /** Waits until the change, made at `appliedAt`, is in effect on the mesh. */
  until(appliedAt: Date): Promise<InEffect>;
  /** The same change backwards, prepared before the undo puts the objects back. */
  back(): Promise<PendingChange>;
}

/**
 * How a mesh's policy is known to be in effect on a cluster (docs/adr/0010): what its control plane
 * serves, what its controllers write, what its proxies accepted. One per run of the kube target.
 */
export interface PolicyWatch {
  /** Prepares the change of applied objects from `before` to `after`; refuses objects it could not wait on. */
  change(before: readonly K8sObject[], after: readonly K8sObject[]): Promise<PendingChange>;
  /** The control plane's pods changed (stopped or restarted): the next wait connects again. */
  forgetControlPlane(): void;
  /** For the run record: how the mesh was reached. */
  describe(): Record<string, string>;
  close(): void;
}

/**
 * The reference mesh: meshcheck's own sidecars on this machine (no cluster). Its render is the config
 * each sidecar is pushed, for the service it fronts.
 */
export interface ReferenceMesh {
  readonly name: 'reference';
  readonly title: string;
  support(intent: Intent): Support;
  supportAll(intents: readonly Intent[]): Support[];
  compile(version: number, service: string, intents: readonly Intent[], endpoints: Record<string, Endpoint[]>): SidecarConfig;
  readonly requests: RequestMetric;
  /** The mesh whose documented figures its overhead is set beside, for scale. */
  readonly figuresFor: string;
}
