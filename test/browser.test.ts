import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, startCli, tmpOut } from './helpers/cli.js';
import { freePort } from '../src/util/net.js';

/**
 * The reports as a reviewer sees them: a real run (the overhead feature, which passes, and a
 * scenario written to fail), `run --report`, then Debian's Chromium opens the Allure HTML and the
 * comparative report. Screenshots go to test-results/screenshots/.
 */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results', 'screenshots');

let browser: Browser;
let server: ChildProcess | undefined;
let out: string;
let history: string;
let port: number;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup.sh installs the Debian chromium package`);
  mkdirSync(SHOTS, { recursive: true });
  out = tmpOut();
  history = join(out, 'history');
  const run = startCli(['run', join(ROOT, 'features', 'overhead.feature'), join(ROOT, 'test', 'fixtures', 'claims.feature'), '--out', out, '--no-progress', '--report', '--history-dir', history]);
  const code = await run.done;
  // One scenario fails on purpose: exit 1, and the reports are still built.
  expect({ code, report: /Allure report: /.test(run.stderr) }).toEqual({ code: 1, report: true });
  port = await freePort();
  // allure-commandline's own preview server (the report fetches its data, so file:// does not work).
  server = spawn(join(ROOT, 'node_modules', 'allure-commandline', 'dist', 'bin', 'allure'), ['open', '-h', '127.0.0.1', '-p', String(port), join(out, 'report', 'allure-report')], { stdio: 'ignore', detached: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'] });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (server?.pid) try { process.kill(-server.pid, 'SIGTERM'); } catch { /* already gone */ }
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  for (let i = 0; ; i++) {
    try {
      await page.goto(url);
      return page;
    } catch (err) {
      // The preview server (a JVM) takes a moment to listen.
      if (i > 60) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function shot(page: Page, name: string): Promise<void> {
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(statSync(file).size).toBeGreaterThan(10_000);
}

describe('the Allure report in a browser', () => {
  it('shows the suites, the failed test with its evidence, the categories and the latency chart', async () => {
    const page = await open(`http://127.0.0.1:${port}/index.html#suites`);
    await page.waitForSelector('.node__title');
    // Mesh as parent suite, capability as suite.
    await page.locator('.node__title', { hasText: 'reference' }).first().click();
    const tree = await page.locator('.tree__content').first().innerText();
    expect(tree).toContain('overhead');
    expect(tree).toContain('claims');
    await page.locator('.node__title', { hasText: 'claims' }).first().click();
    await page.locator('.node__title', { hasText: 'Every call to reviews is claimed to fail' }).first().click();
    const result = page.locator('.test-result');
    await result.waitFor();
    await expect(result.locator('.test-result__status').innerText()).resolves.toMatch(/failed/i);
    const overview = await result.innerText();
    expect(overview).toContain('FAILED: all responses have status 503');
    expect(overview).toMatch(/observed: \d+ of \d+ responses did not match/);
    expect(overview).toContain('Categories: Failed verdicts');
    // Evidence: the load summary and latency chart on the When step, the verdict on the Then step.
    await result.locator('.step__title', { hasText: 'When 100 requests are sent' }).click();
    await result.locator('.step__title', { hasText: 'Then all responses have status 503' }).click();
    const names = await result.locator('.attachment-row__name').allInnerTexts();
    expect(names).toEqual(expect.arrayContaining(['load summary', 'latency chart', 'verdict: FAILED']));
    await result.locator('.attachment-row', { hasText: 'latency chart' }).first().click();
    const chart = result.locator('.attachment-row__content img, .attachment-row__content svg, .attachment-row__content iframe').first();
    await chart.waitFor({ timeout: 10_000 });
    await shot(page, 'allure-failed-test');

    await page.goto(`http://127.0.0.1:${port}/index.html#categories`);
    await page.waitForSelector('.node__title');
    await expect(page.locator('.tree__content').first().innerText()).resolves.toContain('Failed verdicts');
    await shot(page, 'allure-categories');

    await page.goto(`http://127.0.0.1:${port}/index.html`);
    // Widgets load one by one ("Loading..." first): wait for the environment widget's own rows.
    const environment = page.locator('.widget', { hasText: 'Environment' });
    await environment.locator('text=reference').first().waitFor({ timeout: 30_000 });
    expect(await environment.first().innerText()).toMatch(/mesh\s+reference/);
    await shot(page, 'allure-overview');
    await page.close();
  }, 120_000);

  it('carries history to the next report (--history-dir)', async () => {
    const read = () => JSON.parse(readFileSync(join(history, 'history', 'history.json'), 'utf8')) as Record<string, { items: unknown[] }>;
    // (The overhead feature's two scenarios.)
    expect(Object.values(read()).map((e) => e.items.length)).toEqual([1, 1, 1]);
    const again = startCli(['report', out, '--out', join(out, 'report-2'), '--history-dir', history]);
    expect(await again.done).toBe(0);
    // Each test now has the previous report's result and this one's.
    expect(Object.values(read()).map((e) => e.items.length)).toEqual([2, 2, 2]);
  }, 120_000);
});

describe('the comparative report in a browser', () => {
  it('shows the measured rows, the charts with documented figures and the within / exceeds verdicts', async () => {
    const page = await open(`file://${join(out, 'report', 'comparative.html')}`);
    await expect(page.locator('h1').innerText()).resolves.toContain('comparative overhead report');
    const meshes = await page.locator('table.measured tbody tr td:first-child').allInnerTexts();
    // A "none" and a "reference" row for each of the overhead feature's two scenarios.
    expect(meshes).toEqual(['none', 'reference', 'none', 'reference']);
    for (const id of ['chart-latency', 'chart-distribution']) await expect(page.locator(`svg#${id}`).count()).resolves.toBe(1);
    // Bars for every row (p50, p90, p99), a percentile line per row, documented figures drawn as bands.
    await expect(page.locator('svg#chart-latency rect.bar').count()).resolves.toBe(12);
    await expect(page.locator('svg#chart-distribution path.series').count()).resolves.toBe(4);
    await expect(page.locator('svg text.band').count()).resolves.toBeGreaterThan(0);
    const verdicts = await page.locator('table.comparisons .verdict').allInnerTexts();
    expect(verdicts.length).toBeGreaterThan(0);
    for (const v of verdicts) expect(['within', 'exceeds', 'undecided']).toContain(v);
    await shot(page, 'comparative-report');
    await page.close();
  }, 60_000);
});
