import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InterruptedError } from '../errors.js';

/**
 * A change the real node (`meshcheck cluster up`) makes to this machine, with what is needed to undo it
 * (src/cluster/host.ts undoes each).
 */
export type HostChange =
  /** An nftables table of the node's own (the guard). */
  | { kind: 'nft-table'; family: 'inet' | 'ip' | 'ip6'; name: string }
  /** Network links of the node's own (a bridge goes with the pod veths still attached to it). */
  | { kind: 'links'; names: string[] }
  /** sysctls as they were before, put back where they differ. */
  | { kind: 'sysctls'; prior: Record<string, string> }
  /** What kube-proxy and the kubelet add to iptables/nftables: tables that did not exist before. */
  | { kind: 'netfilter'; tablesBefore: string[]; kubeProxy: string; kubeProxyConfig: string }
  /** Containers, pod sandboxes, mounts, cgroups and host paths the runtime and the kubelet leave. */
  | { kind: 'runtime'; stateDir: string; shim: string; pathsBefore: string[]; cgroupsBefore: string[] }
  /**
   * A context (with its cluster and user entries) added to a kubeconfig file: put back byte for byte
   * from `backup` while the file is still what was written (sha256 `written`), else removed by name.
   */
  | { kind: 'kubeconfig'; file: string; name: string; backup?: string; written: string };

/** One recorded mutation and how to undo it. Written before the mutation is made. */
export type LedgerEntry =
  | { op: 'run'; runId: string; pid: number; startedAt: string; out?: string }
  | { op: 'process-group'; pgid: number; what: string }
  | { op: 'directory'; path: string; what: string }
  | { op: 'kube-namespace'; context: string; kubeconfig: string; name: string }
  | { op: 'kube-object'; kubeconfig: string; context?: string; ownServer?: boolean; object: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }; prior: Record<string, unknown> | null }
  | { op: 'host'; change: HostChange }
  | { op: 'done'; ref: number }
  | { op: 'closed' };

/** Where ledgers live, so `meshcheck cleanup` can find what a crashed run left. */
export function ledgerRoot(): string {
  const base = process.env.MESHCHECK_STATE_DIR ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'meshcheck');
  return join(base, 'ledgers');
}

/**
 * Append-only journal of a run's mutations on disk. An entry is written (synchronously) before the
 * mutation it describes, and a `done` entry after its undo ran, so a crash at any point leaves a
 * ledger that `meshcheck cleanup` can finish.
 */
export class Ledger {
  private seq = 0;
  private sealedBy?: string;
  readonly file: string;

  constructor(readonly runId: string, root = ledgerRoot()) {
    mkdirSync(root, { recursive: true });
    this.file = join(root, `${runId}.jsonl`);
  }

  /**
   * Records a mutation about to be made. On a sealed ledger only undos (`done`) are recorded: any
   * other change throws, so work still under way after an interrupt makes no change cleanup would miss.
   */
  record(entry: LedgerEntry): number {
    if (this.sealedBy && entry.op !== 'done') throw new InterruptedError(`${this.sealedBy}: ${entry.op} not made`);
    appendFileSync(this.file, `${JSON.stringify({ seq: ++this.seq, ...entry })}\n`);
    return this.seq;
  }

  /** From now on, no new mutation may be recorded (an interrupt: what is recorded is being undone). */
  seal(why: string): void {
    this.sealedBy ??= why;
  }

  /** Why the ledger was sealed (e.g. "interrupted (SIGINT)"), or undefined while it takes new entries. */
  get sealed(): string | undefined {
    return this.sealedBy;
  }

  /** Removes the ledger once every entry is undone. */
  close(): void {
    rmSync(this.file, { force: true });
  }

  static read(file: string): (LedgerEntry & { seq: number })[] {
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LedgerEntry & { seq: number });
  }

  static list(root = ledgerRoot()): { runId: string; file: string }[] {
    if (!existsSync(root)) return [];
    return readdirSync(root).filter((f) => f.endsWith('.jsonl')).map((f) => ({ runId: f.slice(0, -'.jsonl'.length), file: join(root, f) }));
  }
}
