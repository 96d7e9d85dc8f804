import type { Intent } from '../intents/types.js';
import type { CheckFeature, Support } from '../meshes/types.js';
import type { K8sObject } from '../kube/objects.js';
import type { LoadProfile, Sample } from '../load/profile.js';
import type { LoadResult } from '../load/result.js';
import type { Prometheus } from '../metrics/prometheus.js';
import type { Evidence } from '../evidence.js';
import type { Undo } from '../util/undo.js';
import type { SampleReading } from '../load/reading.js';

/*
 * What a scenario session may ask of where it runs (DESIGN.md "Targets"), as small ports: a target
 * implements the ports it has; the session, the steps and the hooks see only these. A step that needs
 * a port a target lacks is NOT_SUPPORTED with the target's reason (Target.lacks).
 */

/** One running instance of a service, as the session sees it. */
export interface Workload {
  service: string;
  version: string;
  /** e.g. reviews-v2-0 */
  name: string;
  /** SPIFFE ID of its workload identity. */
  identity: string;
}

/** What the session tells an instance to do instead of answering normally. */
export interface Misbehaviour {
  /** Fail every request with this HTTP status (a gRPC workload fails with the status a caller would see for it). */
  failStatus?: number;
  delayMs?: number;
}

export interface SidecarStats {
  instance: string;
  service: string;
  pid: number;
  cpuSeconds: number;
  rssBytes: number;
  /**
   * When the counters were collected, in the source's clock (cAdvisor's timestamp, refreshed every
   * housekeeping interval: 1 s on meshcheck's node, 10 s by default); absent when read live (/proc).
   */
  collectedAt?: number;
}

export interface Applied {
  undo: Undo;
  /** From the call until the data plane has the policy (the target's own signal: acks, or xDS served). */
  convergenceMs: number;
  evidence: Evidence[];
}

export interface LoadOptions {
  engine: 'embedded' | 'k6';
  shouldStop?: (samples: readonly Sample[]) => boolean;
  onProgress?: (p: { sent: number; completed: number; errors: number; rps: number }) => void;
  /**
   * The control plane restarts during this load. A target whose loads start in new pods sends this
   * one from a caller that runs already: a new pod needs the control plane to start (its injection,
   * its certificate), which the restart takes away a moment later.
   */
  controlPlaneRestarts?: boolean;
}

export interface ProbeResult {
  attempts: number;
  rejected: number;
  detail: string[];
}

/** Mesh policy: how each intent is expressed here, what it becomes, and putting it in effect. */
export interface PolicyPort {
  /** How the data plane can express each intent of one scenario, in order. */
  supportAll(intents: readonly Intent[]): Support[];
  /** The mesh objects a scenario's intents become here (empty for the reference mesh). */
  render(intents: readonly Intent[]): K8sObject[];
  /** Puts intents in effect on top of those already in effect. */
  apply(intents: readonly Intent[]): Promise<Applied>;
}

/** The application's instances: which run, and how they behave. */
export interface WorkloadPort {
  /** Only these versions of a service take traffic. */
  runVersions(service: string, versions: string[]): Promise<Undo>;
  instancesOf(service: string): Workload[];
  setBehaviour(instances: readonly Workload[], b: Misbehaviour): Promise<Undo>;
  /** How many requests an instance failed on purpose since told to (the efficacy check). */
  failedCount(instance: Workload): Promise<number>;
}

/** Requests: through the mesh, around it, and from outside it. */
export interface TrafficPort {
  /** Load through the mesh, from the profile's caller (the meshed load client by default). */
  load(p: LoadProfile, o: LoadOptions): Promise<LoadResult>;
  /** The same load straight to one instance's workload, outside the mesh (the overhead baseline). */
  loadDirect(p: LoadProfile, instance: Workload, o: LoadOptions): Promise<LoadResult>;
  /** The name of the caller's own instance (sidecar) that a load from it passes, if there is one. */
  callerInstance(caller?: string): string | undefined;
  /**
   * Where each load would start its own caller (a k6 Job's pod on a cluster, gone after it): one meshed
   * caller kept running for the loads that follow, so its sidecar's CPU and memory can be measured
   * across them (callerInstance names it meanwhile). The undo ends it.
   */
  holdCaller?(): Promise<Undo>;
  /** A plaintext client outside the mesh calls each instance of a service directly. */
  plaintextProbe(service: string): Promise<ProbeResult>;
  /** Process groups whose CPU is meshcheck's own during a load (load health). */
  ownProcessGroups(): number[];
}

/** What the data plane reports of itself: its sidecars' usage and the mesh's metrics. */
export interface ObservationPort {
  sidecarStats(): Promise<SidecarStats[]>;
  /** The PromQL that counts the requests to a service by response code on this data plane, and the label that holds the code. */
  requestsByCode(service: string): { query: string; codeLabel: string };
  /** The Prometheus that scrapes this data plane (meshcheck's own, or a cluster's). */
  prometheus(): Promise<Prometheus>;
}

/** The mesh's control plane, stopped and restarted while the data plane keeps its config. */
export interface ControlPlanePort {
  /** Stops the mesh control plane; the data plane keeps the config it has. The undo starts it again. */
  stopControlPlane(): Promise<Undo>;
  /** Stops the control plane and starts it again, waiting until it serves. */
  restartControlPlane(): Promise<{ downMs: number; readyMs: number }>;
}

/** Where a run's scenarios run: the ports it has, and what it says of itself. */
export interface Target {
  /** Allure parent suite and run-record label: the mesh, its version and data plane where they say more. */
  readonly label: string;
  /** The mesh as the run record names it, with its version where there is one. */
  readonly mesh: { name: string; version?: string; dataPlane?: string };
  /** Time from each change to the data plane having it, in milliseconds (the whole run). */
  readonly convergenceMs: number[];
  /** What an overhead run's mesh side goes through, when it is not two sidecars over HTTP/1.1 with mTLS. */
  readonly dataPath?: { protocol: string; path: string; dataPlane: string };
  /** Worker threads of each proxy on the data path (Envoy's --concurrency), where known: a condition of overhead figures. */
  readonly proxyWorkers?: number;
  /** Conditions of this target's measurements that no published figure names (upstream Envoy, one machine, one node's bridge). */
  readonly measurementNotes?: readonly string[];
  /** The load engine when the data plane needs its own (proxyless gRPC); else the run's --load-engine. */
  readonly engine?: string;
  /** How its responses are read, when not as HTTP (proxyless gRPC). */
  readonly reading?: SampleReading;

  readonly policy: PolicyPort;
  readonly workloads: WorkloadPort;
  readonly traffic: TrafficPort;
  /** Absent where the data plane reports nothing meshcheck reads (lacks() says why). */
  readonly observations?: ObservationPort;
  readonly controlPlane: ControlPlanePort;

  /** Why a step needing this capability cannot be checked here; undefined when it can. */
  lacks(feature: CheckFeature): string | undefined;
  /** Called before each runnable scenario, after its capability check (the kube target deploys its workload here). */
  beforeScenario?(): Promise<void>;
  /** Facts for the run record (versions, convergence). */
  describe(): Record<string, unknown>;
  stop(): Promise<void>;
}
