import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfraError, UsageError } from '../errors.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { toolsBin } from '../util/tools.js';

/**
 * Allure files meshcheck writes beside the results, and the Allure HTML build.
 *
 * The categories for meshcheck's outcomes are in reports/allure-categories.json: NOT_SUPPORTED results
 * are skipped ("Not supported by mesh"), INCONCLUSIVE ones are failed with that word in the message
 * (those meshcheck's own load could not support, marked with INFRASTRUCTURE_MARKER, in a category of
 * their own, listed first: a result belongs to the first category it matches), BROKEN ones are broken.
 */
export const ALLURE_CATEGORIES_FILE = join(PACKAGE_ROOT, 'reports', 'allure-categories.json');

export function writeAllureCategories(resultsDir: string): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'categories.json'), readFileSync(ALLURE_CATEGORIES_FILE, 'utf8'));
}

export function writeAllureEnvironment(resultsDir: string, env: Record<string, string | number | undefined>): void {
  mkdirSync(resultsDir, { recursive: true });
  // Java properties: escape backslashes, and ":" "=" in keys; one entry per line.
  const lines = Object.entries(env).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k.replace(/[\\:= ]/g, (c) => `\\${c}`)}=${String(v).replace(/\\/g, '\\\\').replace(/\n/g, ' ')}`);
  writeFileSync(join(resultsDir, 'environment.properties'), `${lines.join('\n')}\n`);
}

/** executor.json: who produced the results (meshcheck, and the CI job when there is one). */
export function writeAllureExecutor(resultsDir: string, runId: string, env: NodeJS.ProcessEnv = process.env): void {
  const ci = env.GITHUB_ACTIONS === 'true'
    ? { type: 'github', name: 'GitHub Actions', buildName: `${env.GITHUB_WORKFLOW ?? 'workflow'} #${env.GITHUB_RUN_NUMBER ?? '?'}`, buildUrl: env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined }
    : env.GITLAB_CI === 'true'
      ? { type: 'gitlab', name: 'GitLab CI', buildName: `pipeline ${env.CI_PIPELINE_ID ?? '?'}`, buildUrl: env.CI_PIPELINE_URL }
      : env.JENKINS_URL
        ? { type: 'jenkins', name: 'Jenkins', buildName: env.BUILD_TAG ?? runId, buildUrl: env.BUILD_URL }
        : { type: 'meshcheck', name: 'meshcheck', buildName: runId };
  const executor = { ...ci, buildOrder: Date.now(), reportName: `meshcheck ${runId}` };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'executor.json'), `${JSON.stringify(executor, null, 2)}\n`);
}

/** The allure command of the allure-commandline package (needs Java; the machine has Java 17). */
export function allureBin(): string {
  const bin = join(PACKAGE_ROOT, 'node_modules', 'allure-commandline', 'dist', 'bin', 'allure');
  if (!existsSync(bin)) throw new InfraError(`allure-commandline is not installed (${bin}); run: npm install`);
  return bin;
}

/**
 * Java options that halve allure-commandline's start-up (4.4 s to 2.2 s here): class-data sharing
 * from an archive of the classes Allure loads, made by the first run into the tools cache and named
 * after the Java binary, so another Java makes another archive; C1 only, as the run is short. An
 * option the JVM does not know is ignored.
 */
function classDataSharing(): { opts: string; keep: () => void } {
  const base = '-XX:+IgnoreUnrecognizedVMOptions -XX:TieredStopAtLevel=1';
  let stamp: string;
  let version: string;
  try {
    const java = realpathSync(execFileSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).trim());
    stamp = `${Math.round(statSync(java).mtimeMs)}`;
    version = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'node_modules', 'allure-commandline', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return { opts: base, keep: () => undefined };
  }
  const dir = join(toolsBin(), '..', 'cache');
  const archive = join(dir, `allure-${version}-java-${stamp}.jsa`);
  if (existsSync(archive)) return { opts: `${base} -XX:SharedArchiveFile=${archive}`, keep: () => undefined };
  mkdirSync(dir, { recursive: true });
  const fresh = `${archive}.${process.pid}`;
  return { opts: `${base} -XX:ArchiveClassesAtExit=${fresh}`, keep: () => { if (existsSync(fresh)) renameSync(fresh, archive); } };
}

/**
 * Builds the Allure HTML report from one or more results folders. History: the previous report's
 * history/ (kept in historyDir) goes in as one more results folder, and the new report's history/
 * is copied back, so the trend charts and per-test history carry across runs. The run's own
 * results folder is not modified.
 */
export async function generateAllure(resultsDirs: string[], reportDir: string, historyDir?: string): Promise<void> {
  for (const r of resultsDirs) if (!existsSync(r)) throw new UsageError(`${r}: no Allure results here`);
  const inputs = [...resultsDirs];
  let carried: string | undefined;
  if (historyDir && existsSync(join(historyDir, 'history'))) {
    carried = mkdtempSync(join(tmpdir(), 'meshcheck-allure-history-'));
    cpSync(join(historyDir, 'history'), join(carried, 'history'), { recursive: true });
    inputs.push(carried);
  }
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolveRun, reject) => {
      const cds = classDataSharing();
      const child = spawn(allureBin(), ['generate', ...inputs, '-o', reportDir, '--clean'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, JAVA_OPTS: [cds.opts, process.env.JAVA_OPTS].filter(Boolean).join(' ') } });
      child.on('close', (c) => {
        if (c === 0) cds.keep();
      });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      child.on('error', (err) => reject(new InfraError(`could not start allure: ${err.message}`)));
      child.on('close', (c) => resolveRun({ code: c, output: text }));
    });
    if (code !== 0) throw new InfraError(`allure generate exited ${code}: ${output.trim().split('\n').slice(-5).join(' | ')}${/java/i.test(output) ? ' (Allure 2 needs Java 17: apt-get install openjdk-17-jre-headless)' : ''}`);
  } finally {
    if (carried) rmSync(carried, { recursive: true, force: true });
  }
  if (historyDir) {
    mkdirSync(historyDir, { recursive: true });
    rmSync(join(historyDir, 'history'), { recursive: true, force: true });
    cpSync(join(reportDir, 'history'), join(historyDir, 'history'), { recursive: true });
  }
}
