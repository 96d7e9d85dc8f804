import type { Intent } from '../../intents/types.js';
import { stripUndefined, type K8sObject } from '../../kube/objects.js';
import type { RenderContext, Rendered, Support } from '../types.js';

export function fqdn(ctx: RenderContext, service: string): string {
  return `${service}.${ctx.namespace}.svc.cluster.local`;
}

/** Service names a workload sees: the caller services of `service` in the app, and the load client. */
export function callersOf(ctx: RenderContext, service: string): string[] {
  return [...ctx.services.filter((s) => s.upstream === service).map((s) => s.name), ctx.loadClient];
}

export function versionsOf(ctx: RenderContext, service: string): string[] {
  return ctx.services.find((s) => s.name === service)?.versions ?? ['v1'];
}

/**
 * The max-ejection percent to render for a service: the intent's, else the smallest that lets one host
 * go. Current Envoy ejects a host only if 100 x (ejected + 1) / hosts <= the cap, on the first ejection
 * too, so Istio's default 10% would never eject one of 3 hosts.
 */
export function ejectionCap(ctx: RenderContext, o: { service: string; maxEjectionPercent?: number }): number {
  return o.maxEjectionPercent ?? Math.ceil(100 / versionsOf(ctx, o.service).length);
}

/** Every intent of a scenario, grouped by the service it is about (namespace-wide ones under ""). */
export interface ServicePolicy {
  service: string;
  delay?: Extract<Intent, { kind: 'FaultDelay' }>;
  abort?: Extract<Intent, { kind: 'FaultAbort' }>;
  split?: Extract<Intent, { kind: 'TrafficSplit' }>;
  header?: Extract<Intent, { kind: 'HeaderRoute' }>;
  mtls?: Extract<Intent, { kind: 'MtlsMode' }>;
  pool?: Extract<Intent, { kind: 'ConnectionPool' }>;
  outlier?: Extract<Intent, { kind: 'OutlierDetection' }>;
  retry?: Extract<Intent, { kind: 'Retry' }>;
  timeout?: Extract<Intent, { kind: 'Timeout' }>;
  authz?: Extract<Intent, { kind: 'Authorization' }>;
}

const FIELD: Record<Intent['kind'], keyof Omit<ServicePolicy, 'service'>> = {
  FaultDelay: 'delay', FaultAbort: 'abort', TrafficSplit: 'split', HeaderRoute: 'header', MtlsMode: 'mtls',
  ConnectionPool: 'pool', OutlierDetection: 'outlier', Retry: 'retry', Timeout: 'timeout', Authorization: 'authz',
};

/** Groups intents by service; a later intent of the same kind for the same service replaces the earlier. */
export function policies(intents: readonly Intent[]): ServicePolicy[] {
  const by = new Map<string, ServicePolicy>();
  for (const i of intents) {
    const service = 'service' in i && i.service ? i.service : '';
    const p = by.get(service) ?? { service };
    (p as unknown as Record<string, Intent>)[FIELD[i.kind]] = i;
    by.set(service, p);
  }
  return [...by.values()];
}

/** Does a policy need anything on the request path (route-level config)? */
export function hasRoute(p: ServicePolicy): boolean {
  return Boolean(p.delay || p.abort || p.split || p.header || p.retry || p.timeout);
}

/** Builds a Rendered from each intent's support in the scenario and the objects; objects keep their order, undefined fields removed. */
export function rendered(intents: readonly Intent[], supports: readonly Support[], objects: K8sObject[]): Rendered {
  return { objects: objects.map(stripUndefined), intents: intents.map((intent, n) => ({ intent, support: supports[n]! })) };
}

export function asList(intents: Intent | readonly Intent[]): Intent[] {
  return Array.isArray(intents) ? [...intents] : [intents as Intent];
}

/** The intents a mesh can run (native or emulated), in order. */
export function runnable(intents: readonly Intent[], support: (i: Intent) => Support): Intent[] {
  return intents.filter((i) => support(i).level !== 'unsupported');
}

/** The intents whose support in the scenario is not "unsupported", in order. */
export function runnableOf(intents: readonly Intent[], supports: readonly Support[]): Intent[] {
  return intents.filter((_, n) => supports[n]!.level !== 'unsupported');
}

/** An intent a mesh cannot combine with another intent of the same scenario, and why. */
export interface Conflict {
  intent: Intent;
  reason: string;
}

/**
 * The support of each intent of one scenario: its own support(), turned into "unsupported" where the
 * mesh cannot combine it with another intent for the same service (`conflicts` says which and why).
 */
export function supportInScenario(intents: readonly Intent[], single: (i: Intent) => Support, conflicts: (p: ServicePolicy) => Conflict[]): Support[] {
  const blocked = new Map<Intent, string>();
  for (const p of policies(runnable(intents, single))) {
    for (const c of conflicts(p)) if (!blocked.has(c.intent)) blocked.set(c.intent, c.reason);
  }
  return intents.map((i) => {
    const reason = blocked.get(i);
    return reason ? { level: 'unsupported', reason } : single(i);
  });
}

/** The stated retries (attempts > 0) and timeout of a service that also has a fault, each with the reason `why` gives. */
export function retryAndTimeoutBesideFault(p: ServicePolicy, why: (what: 'retries' | 'timeout') => string): Conflict[] {
  if (!p.abort && !p.delay) return [];
  return [
    ...(p.retry && p.retry.attempts > 0 ? [{ intent: p.retry, reason: why('retries') }] : []),
    ...(p.timeout ? [{ intent: p.timeout, reason: why('timeout') }] : []),
  ];
}
