import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { InfraError } from '../../errors.js';
import { tool } from '../../util/tools.js';

export type XdsType = 'lds' | 'rds' | 'cds' | 'eds';

const TYPES: Record<string, XdsType> = {
  'type.googleapis.com/envoy.config.listener.v3.Listener': 'lds',
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration': 'rds',
  'type.googleapis.com/envoy.config.cluster.v3.Cluster': 'cds',
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment': 'eds',
};

/** A decoded xDS resource, as protojson gives it. */
export type Resource = Record<string, unknown> & { name?: string; clusterName?: string };

/** What istiod currently serves each watched node, per type and resource name. */
export type XdsSnapshot = Map<string, Record<XdsType, Map<string, Resource>>>;

export interface WatchedNode {
  /** e.g. "client" or the server instance's name. */
  label: string;
  id: string;
  metadata: Record<string, string>;
  listeners: string[];
}

/**
 * meshcheck's view of what istiod serves the proxyless data plane: ADS streams held open as gRPC
 * clients and servers hold them (meshcheck-proxyless xds), following LDS -> RDS -> CDS -> EDS. A
 * change is in effect when the served resources show it; `until` waits for that.
 */
export class XdsWatch {
  readonly snapshot: XdsSnapshot = new Map();
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  private exited?: string;

  private constructor(private readonly child: ChildProcess) {}

  static async start(server: string, nodes: WatchedNode[]): Promise<XdsWatch> {
    const child = spawn(tool('meshcheck-proxyless'), ['xds', JSON.stringify({ server, nodes })], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, GRPC_GO_LOG_SEVERITY_LEVEL: 'error' } });
    const w = new XdsWatch(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('exit', (code, signal) => {
      w.exited = `the xDS watcher exited (${code ?? signal}): ${stderr.trim()}`;
      for (const x of w.waiters) x.resolve();
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', () => reject(new InfraError(w.exited!)));
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (text) => {
        if (text.startsWith('READY ')) resolve();
        else if (text.startsWith('XDS ')) w.take(JSON.parse(text.slice(4)) as { node: string; type: string; resources: Resource[] });
      });
    });
    await ready;
    return w;
  }

  private take(r: { node: string; type: string; resources: Resource[] }): void {
    const t = TYPES[r.type];
    if (!t) return;
    let node = this.snapshot.get(r.node);
    if (!node) this.snapshot.set(r.node, (node = { lds: new Map(), rds: new Map(), cds: new Map(), eds: new Map() }));
    // LDS and CDS responses hold every resource of their type; RDS and EDS responses may hold only
    // the ones that changed (istiod sends EDS per changed cluster), so those are merged.
    const fresh = r.resources.map((x) => [String(x.name ?? x.clusterName ?? ''), x] as const);
    if (t === 'lds' || t === 'cds') node[t] = new Map(fresh);
    else for (const [k, v] of fresh) node[t].set(k, v);
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }

  /** The resources of one type served to one node. */
  of(node: string, type: XdsType): Resource[] {
    return [...(this.snapshot.get(node)?.[type].values() ?? [])];
  }

  /** Resolves once `check` holds on what istiod serves; an infrastructure error after the timeout. */
  async until(check: () => boolean, describe: string, timeoutMs = 15_000): Promise<void> {
    if (check()) return;
    if (this.exited) throw new InfraError(this.exited);
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      const entry = { check, resolve };
      this.waiters.push(entry);
      timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== entry);
        reject(new InfraError(`istiod did not serve ${describe} within ${timeoutMs}ms`));
      }, timeoutMs);
    }).finally(() => clearTimeout(timer));
    if (this.exited) throw new InfraError(this.exited);
  }

  stop(): void {
    this.child.stdin?.destroy();
    this.child.kill('SIGTERM');
  }
}
