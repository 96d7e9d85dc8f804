import type { Intent } from '../intents/types.js';
import type { CheckFeature, Support } from '../meshes/types.js';
import type { K8sObject } from '../kube/objects.js';
import type { LoadProfile, Sample } from '../load/profile.js';
import type { LoadResult } from '../load/result.js';
import type { Prometheus } from '../metrics/prometheus.js';
import type { Evidence } from '../evidence.js';

/** Reverts one mutation; each mutation hands back its own. */
export type Undo = () => Promise<void>;

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
}

export type { Evidence } from '../evidence.js';

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
}

/** A capability some steps need beyond intents. */
export type Feature = CheckFeature;

/**
 * Everything a scenario session may ask of where it runs (DESIGN.md "Targets"): the session, the
 * steps and the hooks see only this. The reference local target and the Istio tier implement it,
 * each in its own folder under src/targets/.
 */
export interface Target {
  /** Allure parent suite and run-record label: "reference", "istio 1.31 (proxyless)". */
  readonly label: string;
  /** The mesh as the run record names it, with its version where there is one. */
  readonly mesh: { name: string; version?: string; dataPlane?: string };
  /** Time from each change to the data plane having it, in milliseconds (the whole run). */
  readonly convergenceMs: number[];
  /** What an overhead run's mesh side goes through, when it is not two sidecars over HTTP/1.1 with mTLS. */
  readonly dataPath?: { protocol: string; path: string; dataPlane: string };
  /** The load engine when the data plane needs its own (proxyless gRPC); else the run's --load-engine. */
  readonly engine?: string;
  /** The run's working folder on this machine (logs, certificates, Prometheus). */
  readonly workDir: string;

  /** Called before each runnable scenario, after its capability check (the kube target deploys its workload here). */
  beforeScenario?(): Promise<void>;

  /** How the data plane can express each intent of one scenario, in order. */
  supportAll(intents: readonly Intent[]): Support[];
  /** Why a step needing this capability cannot be checked here; undefined when it can. */
  lacks(feature: Feature): string | undefined;
  /** The mesh objects a scenario's intents become here (empty for the reference mesh). */
  render(intents: readonly Intent[]): K8sObject[];

  /** Puts intents in effect on top of those already in effect. */
  apply(intents: readonly Intent[]): Promise<Applied>;
  /** Only these versions of a service take traffic. */
  runVersions(service: string, versions: string[]): Promise<Undo>;
  instancesOf(service: string): Workload[];
  setBehaviour(instances: readonly Workload[], b: Misbehaviour): Promise<Undo>;
  /** How many requests an instance failed on purpose since told to (the efficacy check). */
  failedCount(instance: Workload): Promise<number>;

  /** Load through the mesh, from the profile's caller (the meshed load client by default). */
  load(p: LoadProfile, o: LoadOptions): Promise<LoadResult>;
  /** The same load straight to one instance's workload, outside the mesh (the overhead baseline). */
  loadDirect(p: LoadProfile, instance: Workload, o: LoadOptions): Promise<LoadResult>;
  /** The name of the caller's own instance (sidecar) that a load from it passes, if there is one. */
  callerInstance(caller?: string): string | undefined;
  /** A plaintext client outside the mesh calls each instance of a service directly. */
  plaintextProbe(service: string): Promise<{ attempts: number; rejected: number; detail: string[] }>;

  sidecarStats(): Promise<SidecarStats[]>;
  /** The PromQL that counts the requests to a service by response code on this data plane, and the label that holds the code. */
  requestsByCode(service: string): { query: string; codeLabel: string };
  /** A Prometheus that runs already (a cluster's own); without it meshcheck starts its own, scraping metricsTargets(). */
  prometheus?(): Promise<Prometheus>;
  /** Scrape targets for Prometheus (host:port of each metrics endpoint). */
  metricsTargets(): string[];
  /** Starts a helper process (Prometheus) with the target's processes, so it is stopped with them. */
  spawnAux(name: string, command: string, args: string[]): Promise<{ pid: number }>;
  /** Process groups whose CPU is meshcheck's own (load health). */
  processGroups(): number[];

  /** Stops the mesh control plane; the data plane keeps the config it has. The undo starts it again. */
  stopControlPlane(): Promise<Undo>;
  /** Stops the control plane and starts it again, waiting until it serves. */
  restartControlPlane(): Promise<{ downMs: number; readyMs: number }>;

  /** Facts for the run record (versions, convergence). */
  describe(): Record<string, unknown>;
  stop(): Promise<void>;
}
