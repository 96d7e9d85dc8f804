import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { K8sObject } from '../../adapters/types.js';
import { InfraError } from '../../errors.js';
import { apiCall } from '../../kube/apply.js';
import { tool } from '../../kube/tools.js';
import { eventually } from '../../util/eventually.js';
import { forwardPort, type Forwarded } from './port-forward.js';

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
export const LINKERD_INBOUND_KINDS: ReadonlySet<string> = new Set(['Server', 'AuthorizationPolicy', 'MeshTLSAuthentication', 'NetworkAuthentication']);

export const isLinkerdInbound = (o: Pick<K8sObject, 'apiVersion' | 'kind'>): boolean => o.apiVersion.startsWith('policy.linkerd.io/') && LINKERD_INBOUND_KINDS.has(o.kind);

/** The policy controller's gRPC port on the destination pod. */
export const LINKERD_POLICY_PORT = 8090;
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

/** The identity prefixes a MeshTLSAuthentication names: "SA.NAMESPACE.serviceaccount.identity." per ServiceAccount, or its literal identities; undefined where it matches by wildcard. */
function identitiesOf(mta: K8sObject | undefined, namespace: string): string[] | undefined {
  if (!mta) return undefined;
  const s = spec(mta);
  const refs = (s.identityRefs as { kind?: string; name?: string; namespace?: string }[] | undefined) ?? [];
  const literal = (s.identities as string[] | undefined) ?? [];
  if (literal.some((i) => i.includes('*')) || refs.some((r) => r.kind !== 'ServiceAccount' || r.name === '*')) return undefined;
  return [...refs.map((r) => `${r.name}.${r.namespace ?? namespace}.serviceaccount.identity.`), ...literal].sort();
}

/** What every selected pod's port should be served with once `present` is in effect and `gone` removed. */
export function expectations(namespace: string, present: readonly K8sObject[], gone: readonly K8sObject[], pods: readonly PodPorts[]): PortExpectation[] {
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
  }
  return [...out.values()];
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
  private constructor(readonly via: string, private readonly forwarded: Forwarded) {}

  static async connect(kc: KubeConfig, controlPlaneNamespace: string): Promise<LinkerdPolicyView> {
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await apiCall({ verb: 'list', kind: 'Pod', namespace: controlPlaneNamespace }, () => core.listNamespacedPod({ namespace: controlPlaneNamespace, labelSelector: DESTINATION }));
    const pod = pods.items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (!pod?.metadata?.name) throw new InfraError(`no ready Linkerd destination pod (${DESTINATION} in ${controlPlaneNamespace}), whose policy controller says what is in effect: is Linkerd installed on this cluster?`);
    tool('meshcheck-policy'); // built, or an error that says how, before any wait
    const forwarded = await forwardPort(kc, controlPlaneNamespace, pod.metadata.name, LINKERD_POLICY_PORT);
    return new LinkerdPolicyView(`port-forward to pod ${controlPlaneNamespace}/${pod.metadata.name}:${LINKERD_POLICY_PORT}`, forwarded);
  }

  /** GetPort for each port, in one call of meshcheck-policy. */
  async served(ports: readonly { workload: string; port: number }[]): Promise<ServedPort[]> {
    const addr = this.forwarded.url.replace(/^http:\/\//, '');
    try {
      const { stdout } = await promisify(execFile)(tool('meshcheck-policy'), ['linkerd-inbound', JSON.stringify({ addr, ports, timeoutMs: 5000 })], { timeout: 30_000 });
      return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ServedPort);
    } catch (err) {
      throw new InfraError(`asking Linkerd's policy controller (${this.via}): ${((err as { stderr?: string }).stderr || (err as Error).message).trim()}`);
    }
  }

  /**
   * Waits until the controller serves every port the layer's Servers select as expected
   * (expectations()); returns what it served. Pods are listed on each look, so pods that restart
   * meanwhile are followed. A wait that runs out names each port and what it was served with.
   */
  async until(kc: KubeConfig, namespace: string, present: readonly K8sObject[], gone: readonly K8sObject[], timeoutMs: number): Promise<{ object: string; how: string }[]> {
    const core = kc.makeApiClient(CoreV1Api);
    let pending: string[] = [];
    return eventually(async () => {
      const list = await apiCall({ verb: 'list', kind: 'Pod', namespace }, () => core.listNamespacedPod({ namespace }));
      const pods = list.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp).map(podPorts);
      const want = expectations(namespace, present, gone, pods);
      let got: ServedPort[];
      try {
        got = want.length ? await this.served(want.map((e) => ({ workload: e.workload, port: e.port }))) : [];
      } catch (err) {
        // Asked again on the next look; the last failure is what a wait that runs out reports.
        pending = [(err as Error).message];
        return undefined;
      }
      const seen: { object: string; how: string }[] = [];
      pending = [];
      for (const e of want) {
        const r = judge(e, got.find((g) => g.workload === e.workload && g.port === e.port));
        if (r.ok) seen.push({ object: `${e.workload}:${e.port}`, how: `Linkerd's policy controller: ${r.how}` });
        else pending.push(r.why);
      }
      const servers = present.concat(gone).filter((o) => o.kind === 'Server');
      if (!want.length && servers.length) pending.push(`no running pod of ${namespace} is selected by Server ${servers.map((s) => s.metadata.name).join(', ')}`);
      return pending.length ? undefined : seen;
    }, { timeoutMs, intervalMs: 500, describe: `Linkerd's policy controller to serve the change (${this.via})` }).catch((err: Error) => {
      throw new InfraError(`${err.message}: ${pending.join('; ')}`);
    });
  }

  close(): void {
    this.forwarded.close();
  }
}
