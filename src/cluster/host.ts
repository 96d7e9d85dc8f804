/**
 * The real node's changes to this machine: each is recorded in the ledger before it is made
 * (src/ledger/ledger.ts, HostChange) and undone here, by `cluster down` and by `meshcheck cleanup`
 * after a crash. Every undo is idempotent and touches only what the node made: links, tables and
 * cgroups that existed before `up` are left alone.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { InfraError } from '../errors.js';
import type { HostChange } from '../ledger/ledger.js';
import { sleep } from '../util/eventually.js';
import { HOST_PATHS, NODE_CGROUPS } from './settings.js';

/** Runs a host command; throws with its output when it fails (unless `ok` says the failure is fine). */
export function sh(cmd: string, args: string[], o: { input?: string; ok?: (stderr: string) => boolean } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: o.input });
  if (r.error) throw new InfraError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !o.ok?.(r.stderr)) throw new InfraError(`${cmd} ${args.join(' ')}: exit ${r.status}: ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
  return r.stdout;
}

/** "family name" of every nftables table, e.g. "ip filter", "inet meshcheck_node_guard". */
export function nftTables(): string[] {
  return sh('nft', ['list', 'tables']).split('\n').map((l) => l.replace(/^table /, '').trim()).filter(Boolean);
}

export const linkExists = (name: string) => existsSync(`/sys/class/net/${name}`);

const sysctlPath = (key: string) => join('/proc/sys', ...key.split('.'));

/** The current values of those sysctls this kernel has. */
export function readSysctls(keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => existsSync(sysctlPath(k))).map((k) => [k, readFileSync(sysctlPath(k), 'utf8').trim()]));
}

/** Every cgroup folder the node's top-level names hold, in every hierarchy (v1 and the unified one). */
export function nodeCgroups(): string[] {
  const root = '/sys/fs/cgroup';
  if (!existsSync(root)) return [];
  const tops = readdirSync(root).map((h) => join(root, h)).filter((h) => statSync(h).isDirectory());
  return tops.flatMap((h) => NODE_CGROUPS.map((c) => join(h, c)).filter((p) => existsSync(p)));
}

/** Mount points at or under any of these folders, deepest first. */
export function mountsUnder(dirs: readonly string[]): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((p): p is string => !!p)
    .map((p) => p.replace(/\\040/g, ' '));
  return [...new Set(points.filter((p) => dirs.some((d) => p === d || p.startsWith(`${d}/`))))].sort((a, b) => b.length - a.length);
}

/** Pids in a cgroup folder and every folder below it. */
function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    try {
      for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) out.push(Number(l));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      /* removed meanwhile */
    }
  };
  walk(dir);
  return out;
}

/** Pids of processes running this executable. */
function pidsOf(exe: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return readlinkSync(`/proc/${d}/exe`) === exe;
    } catch {
      return false;
    }
  }).map(Number);
}

function killAll(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Removes a cgroup folder tree, deepest first (a cgroup folder goes with rmdir once it holds no process). */
function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    /* still busy: reported by the snapshot */
  }
}

/** Removes the named tables when they hold only base chains and the KUBE-* chains kube-proxy and the kubelet add. */
function removeKubeTables(tablesBefore: readonly string[]): string[] {
  const done: string[] = [];
  for (const t of nftTables()) {
    if (tablesBefore.includes(t)) continue;
    const [family, name] = t.split(' ');
    const chains = [...sh('nft', ['list', 'table', family!, name!]).matchAll(/^\s*chain (\S+) \{/gm)].map((m) => m[1]!);
    // kube-proxy's nftables mode keeps a table of its own; iptables mode and the kubelet add KUBE-* chains.
    const foreign = name === 'kube-proxy' ? [] : chains.filter((ch) => !/^(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING|KUBE-.*)$/.test(ch));
    if (foreign.length) {
      done.push(`left table ${t}: it has chains the node did not add (${foreign.join(', ')})`);
      continue;
    }
    sh('nft', ['delete', 'table', family!, name!]);
    done.push(`deleted table ${t}`);
  }
  return done;
}

/** Undoes one recorded change; returns what it did. */
export async function undoHostChange(c: HostChange): Promise<string[]> {
  switch (c.kind) {
    case 'nft-table':
      if (!nftTables().includes(`${c.family} ${c.name}`)) return [];
      sh('nft', ['delete', 'table', c.family, c.name]);
      return [`deleted table ${c.family} ${c.name}`];
    case 'links': {
      const done: string[] = [];
      for (const name of c.names) {
        if (!linkExists(name)) continue;
        // Pod veths still on the bridge (their sandboxes died without the CNI's DEL) go first.
        for (const l of sh('ip', ['-o', 'link', 'show', 'master', name], { ok: () => true }).split('\n')) {
          const veth = /^\d+: ([^:@]+)/.exec(l)?.[1];
          if (veth && linkExists(veth)) sh('ip', ['link', 'del', veth], { ok: () => true });
        }
        sh('ip', ['link', 'del', name], { ok: () => !linkExists(name) });
        done.push(`deleted link ${name}`);
      }
      return done;
    }
    case 'sysctls': {
      const now = readSysctls(Object.keys(c.prior));
      const differ = Object.entries(c.prior).filter(([k, v]) => now[k] !== undefined && now[k] !== v);
      for (const [k, v] of differ) writeFileSync(sysctlPath(k), `${v}\n`);
      return differ.map(([k, v]) => `restored ${k}=${v} (was ${now[k]})`);
    }
    case 'netfilter': {
      const done: string[] = [];
      if (existsSync(c.kubeProxy) && existsSync(c.kubeProxyConfig)) {
        spawnSync(c.kubeProxy, ['--cleanup', `--config=${c.kubeProxyConfig}`], { encoding: 'utf8' });
        done.push('kube-proxy --cleanup');
      }
      return [...done, ...removeKubeTables(c.tablesBefore)];
    }
    case 'runtime':
      return undoRuntime(c);
    case 'kubeconfig':
      return removeContext(c);
  }
}

/** Containers and shims, then mounts, cgroups and host paths the runtime and the kubelet left. */
async function undoRuntime(c: Extract<HostChange, { kind: 'runtime' }>): Promise<string[]> {
  const done: string[] = [];
  const cgroups = nodeCgroups().filter((g) => !c.cgroupsBefore.includes(g));
  for (let i = 0; i < 40; i++) {
    const pids = [...new Set([...cgroups.flatMap(cgroupPids), ...pidsOf(c.shim)])].filter((p) => p !== process.pid);
    if (!pids.length) break;
    if (i === 0) done.push(`killed ${pids.length} container and shim process(es)`);
    killAll(pids);
    await sleep(250);
  }
  const newPaths = HOST_PATHS.filter((p) => !c.pathsBefore.includes(p));
  for (const m of mountsUnder([c.stateDir, ...newPaths])) {
    const r = spawnSync('umount', [m], { encoding: 'utf8' });
    if (r.status !== 0) spawnSync('umount', ['-l', m]);
  }
  for (const g of cgroups) removeCgroup(g);
  const left = nodeCgroups().filter((g) => !c.cgroupsBefore.includes(g));
  if (cgroups.length) done.push(left.length ? `cgroups left: ${left.join(', ')}` : `removed cgroups ${cgroups.map((g) => g.replace('/sys/fs/cgroup/', '')).join(', ')}`);
  for (const p of newPaths) {
    if (!existsSync(p)) continue;
    rmSync(p, { recursive: true, force: true });
    done.push(`removed ${p}`);
  }
  return done;
}

type KubeconfigDoc = { clusters?: { name: string }[]; users?: { name: string }[]; contexts?: { name: string }[]; 'current-context'?: string } & Record<string, unknown>;

/** A kubeconfig file's text with a context (and its cluster and user entries, all named `name`) added or replaced. */
export function withContext(file: string, name: string, entry: { server: string; ca: string; cert: string; key: string }): string {
  const doc: KubeconfigDoc = existsSync(file) ? (parse(readFileSync(file, 'utf8')) as KubeconfigDoc | null) ?? {} : { apiVersion: 'v1', kind: 'Config' };
  const put = <T extends { name: string }>(list: T[] | undefined, item: T) => [...(list ?? []).filter((x) => x.name !== name), item];
  doc.clusters = put(doc.clusters, { name, cluster: { server: entry.server, 'certificate-authority': entry.ca } } as { name: string });
  doc.users = put(doc.users, { name, user: { 'client-certificate': entry.cert, 'client-key': entry.key } } as { name: string });
  doc.contexts = put(doc.contexts, { name, context: { cluster: name, user: name } } as { name: string });
  doc['current-context'] ??= name;
  return stringify(doc);
}

export const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/** Puts a kubeconfig file back as it was, or, when it was changed since, takes out only the context. */
function removeContext(c: Extract<HostChange, { kind: 'kubeconfig' }>): string[] {
  const { file, name } = c;
  if (!existsSync(file)) return [];
  if (sha256(readFileSync(file)) === c.written) {
    if (c.backup && existsSync(c.backup)) {
      copyFileSync(c.backup, file);
      return [`put ${file} back as it was`];
    }
    rmSync(file, { force: true });
    return [`removed ${file} (meshcheck cluster up made it)`];
  }
  const doc = (parse(readFileSync(file, 'utf8')) as KubeconfigDoc | null) ?? {};
  const drop = <T extends { name: string }>(list: T[] | undefined) => (list ?? []).filter((x) => x.name !== name);
  const had = (doc.contexts ?? []).some((c) => c.name === name);
  doc.clusters = drop(doc.clusters);
  doc.users = drop(doc.users);
  doc.contexts = drop(doc.contexts);
  if (doc['current-context'] === name) doc['current-context'] = '';
  writeFileSync(file, stringify(doc), { mode: 0o600 });
  return had ? [`removed context ${name} from ${file}`] : [];
}

/**
 * What the node can leave on this machine, as text to compare before `up` and after `down`: the
 * netfilter rulesets, links, routes, mounts, the node's cgroups, its sysctls and host paths.
 */
export function hostSnapshot(sysctls: readonly string[]): Record<string, string> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter(Boolean).sort().join('\n');
  return {
    nft: sh('nft', ['list', 'ruleset']),
    iptables: sh('iptables-save', [], { ok: () => true }).split('\n').filter((l) => !l.startsWith('#')).join('\n'),
    links: sh('ip', ['-o', 'link', 'show']).split('\n').map((l) => l.replace(/^\d+: /, '').replace(/ qlen.*| link\/.*/, '')).sort().join('\n'),
    routes: sh('ip', ['route', 'show', 'table', 'all']),
    netns: sh('ip', ['netns', 'list'], { ok: () => true }),
    mounts,
    cgroups: nodeCgroups().join('\n'),
    sysctls: JSON.stringify(readSysctls(sysctls)),
    paths: HOST_PATHS.filter((p) => existsSync(p)).join('\n'),
  };
}
