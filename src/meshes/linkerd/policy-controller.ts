import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { DEFAULT_INBOUND_POLICY } from './facts.js';
import type { K8sObject } from '../../kube/objects.js';
import { InfraError } from '../../errors.js';
import { apiCall } from '../../kube/client.js';
import { ready, runningPods } from '../../kube/pods.js';
import { tool } from '../../util/tools.js';
import { eventually } from '../../util/eventually.js';
import { forwardPort, type Forwarded } from '../../kube/port-forward.js';

/**
 * "In effect" for Linkerd's inbound policy (Server, AuthorizationPolicy, MeshTLSAuthentication,
 * NetworkAuthentication), on which Linkerd writes no status: what its policy controller serves for
 * each selected pod's port, read with the API the proxies themselves watch
 * (InboundServerPolicies.GetPort, as `linkerd diagnostics policy` does), through a port-forward to
 * the destination pod's port 8090. meshcheck-policy (go/policy) makes the gRPC call with Linkerd's
 * published API definitions.
 *
 * A port is in effect when the controller serves it from the expected Server (or from the default
 * policy, once the layer's Server is gone), with every AuthorizationPolicy of the layer that targets
 * that Server among its authorizations (an AuthorizationPolicy whose authentication the controller
 * cannot find is left out by the controller, so its presence also means its MeshTLSAuthentication
 * or NetworkAuthentication resolved), with the identities each MeshTLSAuthentication names, and
 * none of the AuthorizationPolicies the layer removed. The proxies stream the same answer from the
 * controller; they ack nothing back, so this is what the controller serves, not what each proxy has
 * (Istio's wait has both).
 */

/** The kinds this wait covers. */
const LINKERD_INBOUND_KINDS: ReadonlySet<string> = new Set(['Server', 'AuthorizationPolicy', 'MeshTLSAuthentication', 'NetworkAuthentication']);

export const isLinkerdInbound = (o: Pick<K8sObject, 'apiVersion' | 'kind'>): boolean => o.apiVersion.startsWith('policy.linkerd.io/') && LINKERD_INBOUND_KINDS.has(o.kind);

/**
 * Linkerd before 2.16 takes retries and timeouts from a ServiceProfile, on which it writes no status
 * either: the destination controller's profile for the service (Destination.GetProfile, what a
 * proxy asks for, on the destination pod's port 8086) is read back instead.
 */
export const isLinkerdProfile = (o: Pick<K8sObject, 'apiVersion' | 'kind'>): boolean => o.apiVersion.startsWith('linkerd.io/') && o.kind === 'ServiceProfile';

/** Waited on here: the inbound policy kinds and ServiceProfile. */
export const isLinkerdServed = (o: Pick<K8sObject, 'apiVersion' | 'kind'>): boolean => isLinkerdInbound(o) || isLinkerdProfile(o);

/** The destination controller's gRPC port (profiles and endpoints) on the destination pod. */
const LINKERD_DESTINATION_PORT = 8086;

/** The policy controller's gRPC port on the destination pod. */
const LINKERD_POLICY_PORT = 8090;
const DESTINATION = 'linkerd.io/control-plane-component=destination';

/** One authorization of a served Server (protobuf JSON of io.linkerd.proxy.inbound.Authz). */
export interface ServedAuthz {
  labels?: Record<string, string>;
  metadata?: { default?: string; resource?: { kind?: string; name?: string } };
  authentication?: { meshTLS?: { identities?: { identities?: { name: string }[]; suffixes?: { parts?: string[] }[] } } };
}

/** What GetPort returned for a port (protobuf JSON of io.linkerd.proxy.inbound.Server), or its error. */
export interface ServedPort {
  workload: string;
  port: number;
  server?: { labels?: Record<string, string>; authorizations?: ServedAuthz[] };
  code?: string;
  error?: string;
}

/** What a pod's port should be served with once the layer is in effect. */
export interface PortExpectation {
  /** "NAMESPACE:POD", as the controller names a workload. */
  workload: string;
  port: number;
  /** The Server that selects it, or undefined for the default policy. */
  server?: string;
  /** The Server's accessPolicy (Linkerd 2.16+), served as default-kind authorizations of that name. */
  accessPolicy?: string;
  /** Servers the layer removed, not to be served any more. */
  notServer: string[];
  /** AuthorizationPolicies to be served, each with the identity prefixes its MeshTLSAuthentication names (undefined: not checked). */
  authz: { name: string; identities?: string[] }[];
  /** AuthorizationPolicies the layer removed. */
  notAuthz: string[];
  /** A port no Server selects: the default policy it should be served from (the namespace's, read by its pods when they start). */
  defaultPolicy?: string;
}

/** A pod as far as this wait needs it. */
export interface PodPorts {
  name: string;
  labels: Record<string, string>;
  /** Container ports by name (a Server's port may be a name). */
  ports: { name?: string; containerPort: number }[];
}

type Spec = Record<string, unknown>;
const spec = (o: K8sObject) => ((o as unknown as { spec?: Spec }).spec ?? {});

function selects(server: K8sObject, pod: PodPorts): boolean {
  const sel = spec(server).podSelector as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined;
  if (sel?.matchExpressions?.length) throw new InfraError(`Server ${server.metadata.name}: podSelector.matchExpressions is not read by meshcheck's Linkerd wait; use matchLabels`);
  return Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => pod.labels[k] === v);
}

function portOf(server: K8sObject, pod: PodPorts): number | undefined {
  const p = spec(server).port;
  if (typeof p === 'number') return p;
  return pod.ports.find((x) => x.name === p)?.containerPort;
}

const targets = (ap: K8sObject, server: string) => {
  const t = spec(ap).targetRef as { kind?: string; name?: string } | undefined;
  return t?.kind === 'Server' && t.name === server;
};

/**
 * The identity prefixes a MeshTLSAuthentication names: "SA.NAMESPACE.serviceaccount.identity." per
 * ServiceAccount, or its literal identities; undefined where it matches by wildcard.
 */
function identitiesOf(mta: K8sObject | undefined, namespace: string): string[] | undefined {
  if (!mta) return undefined;
  const s = spec(mta);
  const refs = (s.identityRefs as { kind?: string; name?: string; namespace?: string }[] | undefined) ?? [];
  const literal = (s.identities as string[] | undefined) ?? [];
  if (literal.some((i) => i.includes('*')) || refs.some((r) => r.kind !== 'ServiceAccount' || r.name === '*')) return undefined;
  return [...refs.map((r) => `${r.name}.${r.namespace ?? namespace}.serviceaccount.identity.`), ...literal].sort();
}

/** The default inbound policy a layer sets on its namespace (read by each pod when it starts), if it sets one. */
export function namespaceDefault(objects: readonly K8sObject[]): string | undefined {
  return objects.find((o) => o.kind === 'Namespace' && o.metadata.annotations?.[DEFAULT_INBOUND_POLICY] !== undefined)?.metadata.annotations?.[DEFAULT_INBOUND_POLICY];
}

/** The port named `http` of each pod: the app's port, served from the default policy where no Server selects it. */
const HTTP_PORT = 'http';

/**
 * What every selected pod's port should be served with once `present` is in effect and `gone`
 * removed; with `defaultPolicy`, also every pod's http port that no Server selects.
 */
export function expectations(namespace: string, present: readonly K8sObject[], gone: readonly K8sObject[], pods: readonly PodPorts[], defaultPolicy?: string): PortExpectation[] {
  const of = (list: readonly K8sObject[], kind: string) => list.filter((o) => o.kind === kind && o.metadata.namespace === namespace);
  const servers = of(present, 'Server');
  const goneServers = of(gone, 'Server').filter((g) => !servers.some((s) => s.metadata.name === g.metadata.name));
  const policies = of(present, 'AuthorizationPolicy');
  const gonePolicies = of(gone, 'AuthorizationPolicy').filter((g) => !policies.some((p) => p.metadata.name === g.metadata.name));
  const mtas = of(present, 'MeshTLSAuthentication');
  const out = new Map<string, PortExpectation>();
  const at = (pod: PodPorts, port: number) => {
    const key = `${pod.name}:${port}`;
    if (!out.has(key)) out.set(key, { workload: `${namespace}:${pod.name}`, port, notServer: [], authz: [], notAuthz: [] });
    return out.get(key)!;
  };
  for (const pod of pods) {
    for (const g of goneServers) {
      const port = portOf(g, pod);
      if (port !== undefined && selects(g, pod)) {
        const e = at(pod, port);
        e.notServer.push(g.metadata.name);
        e.notAuthz.push(...gonePolicies.filter((p) => targets(p, g.metadata.name)).map((p) => p.metadata.name));
      }
    }
    for (const s of servers) {
      const port = portOf(s, pod);
      if (port === undefined || !selects(s, pod)) continue;
      const e = at(pod, port);
      const name = s.metadata.name;
      e.server = name;
      e.accessPolicy = spec(s).accessPolicy as string | undefined;
      e.authz = policies.filter((p) => targets(p, name)).map((p) => {
        const refs = (spec(p).requiredAuthenticationRefs as { kind?: string; name?: string }[] | undefined) ?? [];
        const mta = refs.find((r) => r.kind === 'MeshTLSAuthentication');
        return { name: p.metadata.name, identities: mta ? identitiesOf(mtas.find((m) => m.metadata.name === mta.name), namespace) : undefined };
      });
      e.notAuthz = gonePolicies.filter((p) => targets(p, name)).map((p) => p.metadata.name);
    }
    const http = pod.ports.find((x) => x.name === HTTP_PORT)?.containerPort;
    if (defaultPolicy && http !== undefined) {
      const e = at(pod, http);
      if (!e.server) e.defaultPolicy = defaultPolicy;
    }
  }
  return [...out.values()];
}

/** A profile as GetProfile streams it (protobuf JSON of io.linkerd.proxy.destination.DestinationProfile), or its error. */
export interface ServedProfile {
  path: string;
  profile?: { routes?: { metricsLabels?: Record<string, string>; isRetryable?: boolean; timeout?: string }[]; retryBudget?: { retryRatio?: number } };
  code?: string;
  error?: string;
}

/** What a service's profile should hold once the layer is in effect. */
export interface ProfileExpectation {
  /** HOST:PORT as a proxy asks for it. */
  path: string;
  /** The routes of the ServiceProfile (by name), with whether each is retryable and its timeout in ms. */
  routes: { name: string; retryable: boolean; timeoutMs?: number }[];
  retryRatio?: number;
  /** Route names of a removed ServiceProfile, not to be served any more. */
  notRoutes: string[];
}

const durationMs = (d: string | undefined): number | undefined => {
  if (!d) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d);
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
};

/** What each ServiceProfile of the layer should be served as (and each removed one no longer); `port` is the service's port. */
export function profileExpectations(present: readonly K8sObject[], gone: readonly K8sObject[], port: number): ProfileExpectation[] {
  const profiles = present.filter(isLinkerdProfile);
  const out: ProfileExpectation[] = profiles.map((p) => {
    const sp = spec(p) as { routes?: { name: string; isRetryable?: boolean; timeout?: string }[]; retryBudget?: { retryRatio?: number } };
    return { path: `${p.metadata.name}:${port}`, routes: (sp.routes ?? []).map((r) => ({ name: r.name, retryable: Boolean(r.isRetryable), timeoutMs: durationMs(r.timeout) })), retryRatio: sp.retryBudget?.retryRatio, notRoutes: [] };
  });
  for (const g of gone.filter(isLinkerdProfile)) {
    if (profiles.some((p) => p.metadata.name === g.metadata.name)) continue;
    out.push({ path: `${g.metadata.name}:${port}`, routes: [], notRoutes: ((spec(g).routes as { name: string }[] | undefined) ?? []).map((r) => r.name) });
  }
  return out;
}

/** Whether the profile served for a path is what `e` expects; what differs. */
export function judgeProfile(e: ProfileExpectation, got: ServedProfile | undefined): { ok: true; how: string } | { ok: false; why: string } {
  if (!got) return { ok: false, why: `profile of ${e.path}: no answer` };
  if (!got.profile) return { ok: false, why: `profile of ${e.path}: ${got.code ?? 'error'} ${got.error ?? ''}`.trim() };
  const routes = got.profile.routes ?? [];
  const byName = (n: string) => routes.find((r) => r.metricsLabels?.route === n);
  for (const want of e.routes) {
    const r = byName(want.name);
    if (!r) return { ok: false, why: `profile of ${e.path}: route ${want.name} not served yet (served: ${routes.map((x) => x.metricsLabels?.route ?? '?').join(', ') || 'none'})` };
    if (Boolean(r.isRetryable) !== want.retryable) return { ok: false, why: `profile of ${e.path}: route ${want.name} served ${r.isRetryable ? '' : 'not '}retryable` };
    const ms = r.timeout === undefined ? undefined : Math.round(Number(r.timeout.replace(/s$/, '')) * 1000);
    if (want.timeoutMs !== undefined && ms !== want.timeoutMs) return { ok: false, why: `profile of ${e.path}: route ${want.name} served with timeout ${r.timeout ?? 'none'}, expected ${want.timeoutMs} ms` };
  }
  if (e.retryRatio !== undefined && Math.abs((got.profile.retryBudget?.retryRatio ?? -1) - e.retryRatio) > 1e-6) return { ok: false, why: `profile of ${e.path}: retry budget ratio ${got.profile.retryBudget?.retryRatio ?? 'none'}, expected ${e.retryRatio}` };
  const stale = e.notRoutes.filter((n) => byName(n));
  if (stale.length) return { ok: false, why: `profile of ${e.path}: route ${stale.join(', ')} still served` };
  return { ok: true, how: e.routes.length ? `profile of ${e.path} served with route ${e.routes.map((r) => r.name).join(', ')}` : `profile of ${e.path} without the removed routes` };
}

const authzName = (a: ServedAuthz) => a.metadata?.resource?.name ?? a.labels?.name;
const authzKind = (a: ServedAuthz) => (a.metadata?.resource?.kind ?? a.labels?.kind ?? (a.metadata?.default !== undefined ? 'default' : '')).toLowerCase();

/** Whether what the controller served for a port is what `e` expects; what differs. */
export function judge(e: PortExpectation, got: ServedPort | undefined): { ok: true; how: string } | { ok: false; why: string } {
  const where = `${e.workload} port ${e.port}`;
  if (!got) return { ok: false, why: `${where}: no answer` };
  if (!got.server) return { ok: false, why: `${where}: ${got.code ?? 'error'} ${got.error ?? ''}`.trim() };
  const labels = got.server.labels ?? {};
  const served = labels.kind === 'server' ? `Server ${labels.name}` : `the default policy ${labels.name ?? '?'}`;
  if (e.server && !(labels.kind === 'server' && labels.name === e.server)) return { ok: false, why: `${where}: served from ${served}, not yet from Server ${e.server}` };
  if (!e.server && labels.kind === 'server' && e.notServer.includes(labels.name ?? '')) return { ok: false, why: `${where}: still served from ${served}` };
  if (e.defaultPolicy && !e.server && labels.kind !== 'server' && labels.name !== e.defaultPolicy) return { ok: false, why: `${where}: served from ${served}, not yet from the default policy ${e.defaultPolicy} (the pod reads it when it starts)` };
  const authz = got.server.authorizations ?? [];
  const policyNames = authz.filter((a) => authzKind(a) === 'authorizationpolicy').map(authzName);
  for (const want of e.authz) {
    const a = authz.find((x) => authzKind(x) === 'authorizationpolicy' && authzName(x) === want.name);
    if (!a) return { ok: false, why: `${where}: AuthorizationPolicy ${want.name} not served yet (served: ${policyNames.join(', ') || 'none'}; the controller also leaves out a policy whose authentication it cannot find)` };
    if (want.identities) {
      const ids = (a.authentication?.meshTLS?.identities?.identities ?? []).map((i) => i.name).sort();
      const match = ids.length === want.identities.length && want.identities.every((p) => ids.some((i) => (p.endsWith('.') ? i.startsWith(p) : i === p)));
      if (!match) return { ok: false, why: `${where}: AuthorizationPolicy ${want.name} serves identities ${ids.join(', ') || 'none'}, expected ${want.identities.map((p) => (p.endsWith('.') ? `${p}*` : p)).join(', ')}` };
    }
  }
  const stale = e.notAuthz.filter((n) => policyNames.includes(n));
  if (stale.length) return { ok: false, why: `${where}: AuthorizationPolicy ${stale.join(', ')} still served` };
  if (e.server && e.accessPolicy) {
    const defaults = authz.filter((a) => authzKind(a) === 'default').map(authzName);
    const wrong = e.accessPolicy === 'deny' ? defaults.length > 0 : !defaults.length || defaults.some((d) => d !== e.accessPolicy);
    if (wrong) return { ok: false, why: `${where}: accessPolicy ${e.accessPolicy} not served yet (default authorizations: ${defaults.join(', ') || 'none'})` };
  }
  return { ok: true, how: `${where} served from ${served} with ${policyNames.length ? `AuthorizationPolicy ${policyNames.join(', ')}` : 'no AuthorizationPolicy'}` };
}

const podPorts = (p: V1Pod): PodPorts => ({
  name: p.metadata!.name!,
  labels: p.metadata?.labels ?? {},
  ports: (p.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((x) => ({ name: x.name, containerPort: x.containerPort }))),
});

/** Linkerd's policy controller, reached through a port-forward to a running destination pod. */
export class LinkerdPolicyView {
  private destination?: Forwarded;

  private constructor(
    readonly via: string,
    private readonly forwarded: Forwarded,
    private readonly kc: KubeConfig,
    private readonly pod: { namespace: string; name: string },
  ) {}

  static async connect(kc: KubeConfig, controlPlaneNamespace: string): Promise<LinkerdPolicyView> {
    const pod = (await runningPods(kc, controlPlaneNamespace, DESTINATION)).find(ready);
    if (!pod?.metadata?.name)
      throw new InfraError(
        `no ready Linkerd destination pod (${DESTINATION} in ${controlPlaneNamespace}), whose policy controller says what is in effect: is Linkerd installed on this cluster?`,
      );
    tool('meshcheck-policy'); // built, or an error that says how, before any wait
    const forwarded = await forwardPort(kc, controlPlaneNamespace, pod.metadata.name, LINKERD_POLICY_PORT);
    return new LinkerdPolicyView(`port-forward to pod ${controlPlaneNamespace}/${pod.metadata.name}:${LINKERD_POLICY_PORT}`, forwarded, kc, {
      namespace: controlPlaneNamespace,
      name: pod.metadata.name,
    });
  }

  /** GetPort for each port, in one call of meshcheck-policy. */
  served(ports: readonly { workload: string; port: number }[]): Promise<ServedPort[]> {
    return this.ask<ServedPort>('linkerd-inbound', this.forwarded, { ports }, `Linkerd's policy controller (${this.via})`);
  }

  /** GetProfile for each HOST:PORT, as a proxy of `namespace` asks, through a port-forward to the destination controller. */
  async profiles(paths: readonly string[], namespace: string): Promise<ServedProfile[]> {
    this.destination ??= await forwardPort(this.kc, this.pod.namespace, this.pod.name, LINKERD_DESTINATION_PORT);
    return this.ask<ServedProfile>(
      'linkerd-profile',
      this.destination,
      { paths, contextToken: JSON.stringify({ ns: namespace }) },
      `Linkerd's destination controller (port-forward to pod ${this.pod.namespace}/${this.pod.name}:${LINKERD_DESTINATION_PORT})`,
    );
  }

  private async ask<T>(program: string, f: Forwarded, config: Record<string, unknown>, what: string): Promise<T[]> {
    const addr = f.url.replace(/^http:\/\//, '');
    try {
      const { stdout } = await promisify(execFile)(tool('meshcheck-policy'), [program, JSON.stringify({ addr, ...config, timeoutMs: 5000 })], {
        timeout: 30_000,
      });
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T);
    } catch (err) {
      throw new InfraError(`asking ${what}: ${((err as { stderr?: string }).stderr || (err as Error).message).trim()}`);
    }
  }

  /**
   * Waits until the controller serves every port the layer's Servers select as expected
   * (expectations()); returns what it served. Pods are listed on each look, so pods that restart
   * meanwhile are followed. A wait that runs out names each port and what it was served with.
   */
  async until(
    kc: KubeConfig,
    namespace: string,
    present: readonly K8sObject[],
    gone: readonly K8sObject[],
    timeoutMs: number,
    defaultPolicy?: string,
  ): Promise<{ object: string; how: string }[]> {
    const core = kc.makeApiClient(CoreV1Api);
    // A ServiceProfile is named HOST; a proxy asks for HOST:PORT of the Service's port.
    const profiles: ProfileExpectation[] = [];
    for (const name of new Set(
      present
        .concat(gone)
        .filter(isLinkerdProfile)
        .map((o) => o.metadata.name),
    )) {
      const sp = { metadata: { name } };
      const service = name.split('.')[0]!;
      const svc = await apiCall({ verb: 'get', kind: 'Service', name: service, namespace }, () =>
        core.readNamespacedService({ name: service, namespace }),
      );
      profiles.push(
        ...profileExpectations(
          present.filter((o) => o.metadata.name === sp.metadata.name),
          gone.filter((o) => o.metadata.name === sp.metadata.name),
          svc.spec!.ports![0]!.port,
        ),
      );
    }
    let pending: string[] = [];
    return eventually(
      async () => {
        const pods = (await runningPods(kc, namespace)).map(podPorts);
        const want = expectations(namespace, present, gone, pods, defaultPolicy);
        let got: ServedPort[];
        let gotProfiles: ServedProfile[];
        try {
          got = want.length ? await this.served(want.map((e) => ({ workload: e.workload, port: e.port }))) : [];
          gotProfiles = profiles.length
            ? await this.profiles(
                profiles.map((e) => e.path),
                namespace,
              )
            : [];
        } catch (err) {
          // Asked again on the next look; the last failure is what a wait that runs out reports.
          pending = [(err as Error).message];
          return undefined;
        }
        const seen: { object: string; how: string }[] = [];
        pending = [];
        for (const e of want) {
          const r = judge(
            e,
            got.find((g) => g.workload === e.workload && g.port === e.port),
          );
          if (r.ok) seen.push({ object: `${e.workload}:${e.port}`, how: `Linkerd's policy controller: ${r.how}` });
          else pending.push(r.why);
        }
        for (const e of profiles) {
          const r = judgeProfile(
            e,
            gotProfiles.find((g) => g.path === e.path),
          );
          if (r.ok) seen.push({ object: e.path, how: `Linkerd's destination controller: ${r.how}` });
          else pending.push(r.why);
        }
        const servers = present.concat(gone).filter((o) => o.kind === 'Server');
        if (!want.length && servers.length)
          pending.push(`no running pod of ${namespace} is selected by Server ${servers.map((s) => s.metadata.name).join(', ')}`);
        if (!want.length && defaultPolicy) pending.push(`no running pod of ${namespace} has a port named ${HTTP_PORT}`);
        return pending.length ? undefined : seen;
      },
      {
        timeoutMs,
        intervalMs: 500,
        describe: `Linkerd's ${profiles.length ? 'controllers' : 'policy controller'} to serve the change (${this.via})`,
      },
    ).catch((err: Error) => {
      throw new InfraError(`${err.message}: ${pending.join('; ')}`);
    });
  }

  /** The default policy the controller serves now on the first running pod's http port of `namespace` that no Server selects, if any. */
  async servedDefault(kc: KubeConfig, namespace: string): Promise<string | undefined> {
    const pod = (await runningPods(kc, namespace)).map(podPorts).find((p) => p.ports.some((x) => x.name === HTTP_PORT));
    if (!pod) return undefined;
    const [got] = await this.served([{ workload: `${namespace}:${pod.name}`, port: pod.ports.find((x) => x.name === HTTP_PORT)!.containerPort }]);
    return got?.server?.labels?.kind === 'default' ? got.server.labels.name : undefined;
  }

  close(): void {
    this.forwarded.close();
    this.destination?.close();
  }
}
