import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../util/net.js';
import { request } from 'undici';
import { InfraError } from '../errors.js';
import { timeouts } from '../config.js';
import { eventually } from '../util/eventually.js';

/** What meshcheck's own Prometheus scrapes, and where it runs: a folder, and a process group to start in. */
export interface Scraped {
  /** The folder its configuration and data go in. */
  dir: string;
  /** host:port of each metrics endpoint, now. */
  targets(): string[];
  /** Starts a process with the target's own, so it is stopped with them. */
  spawn(name: string, command: string, args: string[]): Promise<{ pid: number }>;
}

export function findPrometheus(): string | undefined {
  for (const p of [process.env.MESHCHECK_PROMETHEUS, '/usr/bin/prometheus', '/usr/local/bin/prometheus']) if (p && existsSync(p)) return p;
  return undefined;
}

/**
 * A real Prometheus server on loopback scraping every sidecar of the local target twice a second.
 * The sidecars are listed in a file Prometheus watches (file-based discovery), so it can start
 * while the sidecars are still starting (it takes seconds) and pick them up once they listen.
 */
export class Prometheus {
  /**
   * `scope`: a Prometheus meshcheck did not start (a cluster's own) scrapes much else; only its
   * targets among the pods of this namespace count when waiting for a scrape.
   */
  private constructor(readonly url: string, private readonly scope?: { namespace: string; via: string }) {}

  /**
   * A Prometheus server that runs already (a cluster's own, at `url`): checked to answer, and
   * waited on for its scrapes of the pods of `namespace` only.
   */
  static async connect(url: string, namespace: string, via = url): Promise<Prometheus> {
    const p = new Prometheus(url.replace(/\/+$/, ''), { namespace, via });
    try {
      const r = await request(`${p.url}/api/v1/status/buildinfo`, { signal: AbortSignal.timeout(10_000) });
      if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}: ${(await r.body.text()).slice(0, 200)}`);
      await r.body.dump();
    } catch (err) {
      throw new InfraError(`Prometheus at ${via} does not answer its HTTP API (/api/v1/status/buildinfo): ${(err as Error).message}`);
    }
    return p;
  }

  /** Writes the scrape targets: every sidecar's admin listener the target has now. */
  static writeTargets(target: Scraped): void {
    const dir = join(target.dir, 'prometheus');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'targets.json');
    writeFileSync(`${file}.tmp`, JSON.stringify([{ targets: target.targets() }]));
    renameSync(`${file}.tmp`, file);
  }

  static async start(target: Scraped): Promise<Prometheus> {
    const bin = findPrometheus();
    if (!bin) throw new InfraError('Prometheus is not installed; run `npm run setup` (installs the Debian package "prometheus") or set MESHCHECK_PROMETHEUS');
    const dir = join(target.dir, 'prometheus');
    Prometheus.writeTargets(target);
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, [
      'global: {scrape_interval: 500ms, evaluation_interval: 1s}',
      'scrape_configs:',
      '- job_name: meshcheck-sidecars',
      '  metrics_path: /metrics',
      `  file_sd_configs: [{files: ["${join(dir, 'targets.json')}"], refresh_interval: 1s}]`,
      '',
    ].join('\n'));
    const port = await freePort();
    await target.spawn('prometheus', bin, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn']);
    const p = new Prometheus(`http://127.0.0.1:${port}`);
    await eventually(async () => (await request(`${p.url}/-/ready`)).statusCode === 200, { timeoutMs: timeouts.prometheusReadyMs, describe: `Prometheus to be ready on ${p.url}` });
    return p;
  }

  /** Waits until every target (of the scope's namespace, for a cluster's Prometheus) has been scraped after `time` (ms since epoch). */
  async scrapedAfter(time: number): Promise<void> {
    const scope = this.scope;
    let seen = 0;
    await eventually(async () => {
      const r = await request(`${this.url}/api/v1/targets?state=active`);
      const body = (await r.body.json()) as {
        data: { activeTargets: { lastScrape: string; health: string; labels?: Record<string, string>; discoveredLabels?: Record<string, string> }[] };
      };
      const ts = body.data.activeTargets.filter((t) => !scope || t.labels?.namespace === scope.namespace || t.discoveredLabels?.__meta_kubernetes_namespace === scope.namespace);
      seen = ts.length;
      return ts.length > 0 && ts.every((t) => t.health === 'up' && Date.parse(t.lastScrape) > time);
    }, {
      timeoutMs: scope ? timeouts.clusterPrometheusScrapeMs : timeouts.prometheusReadyMs, intervalMs: scope ? 1000 : 100,
      describe: scope ? `Prometheus (${scope.via}) to scrape every pod of namespace ${scope.namespace}` : 'Prometheus to scrape every sidecar',
    }).catch((err: Error) => {
      if (scope && seen === 0) throw new InfraError(`${err.message}: it has no target in that namespace; does it scrape the mesh's proxies (for example by their prometheus.io annotations)?`);
      throw err;
    });
  }

  /** Instant query; returns each series' labels and value. */
  async query(promql: string, timeMs?: number): Promise<{ labels: Record<string, string>; value: number }[]> {
    const params = new URLSearchParams({ query: promql });
    if (timeMs !== undefined) params.set('time', (timeMs / 1000).toFixed(3));
    const r = await request(`${this.url}/api/v1/query?${params}`);
    const body = (await r.body.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new InfraError(`Prometheus query failed: ${body.error ?? r.statusCode}: ${promql}`);
    return (body.data?.result ?? []).map((s) => ({ labels: s.metric, value: Number(s.value[1]) }));
  }
}
