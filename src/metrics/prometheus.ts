import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../util/net.js';
import { request } from 'undici';
import { InfraError } from '../errors.js';
import { timeouts } from '../config.js';
import { eventually } from '../util/eventually.js';
import type { Target } from '../targets/target.js';

type Scraped = Pick<Target, 'workDir' | 'metricsTargets' | 'spawnAux'>;

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
  private constructor(readonly url: string) {}

  /** Writes the scrape targets: every sidecar's admin listener the target has now. */
  static writeTargets(target: Scraped): void {
    const dir = join(target.workDir, 'prometheus');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'targets.json');
    writeFileSync(`${file}.tmp`, JSON.stringify([{ targets: target.metricsTargets() }]));
    renameSync(`${file}.tmp`, file);
  }

  static async start(target: Scraped): Promise<Prometheus> {
    const bin = findPrometheus();
    if (!bin) throw new InfraError('Prometheus is not installed; run `npm run setup` (installs the Debian package "prometheus") or set MESHCHECK_PROMETHEUS');
    const dir = join(target.workDir, 'prometheus');
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
    await target.spawnAux('prometheus', bin, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn']);
    const p = new Prometheus(`http://127.0.0.1:${port}`);
    await eventually(async () => (await request(`${p.url}/-/ready`)).statusCode === 200, { timeoutMs: timeouts.prometheusReadyMs, describe: `Prometheus to be ready on ${p.url}` });
    return p;
  }

  /** Waits until every target has been scraped after `time` (ms since epoch). */
  async scrapedAfter(time: number): Promise<void> {
    await eventually(async () => {
      const r = await request(`${this.url}/api/v1/targets`);
      const body = (await r.body.json()) as { data: { activeTargets: { lastScrape: string; health: string }[] } };
      const ts = body.data.activeTargets;
      return ts.length > 0 && ts.every((t) => t.health === 'up' && Date.parse(t.lastScrape) > time);
    }, { timeoutMs: timeouts.prometheusReadyMs, intervalMs: 100, describe: 'Prometheus to scrape every sidecar' });
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
