import 'reflect-metadata';
import { Command, CommanderError, Option } from 'commander';
import { UsageError, describeError } from '../errors.js';
import { MESH_NAMES, REFERENCE, dataPlaneFor, meshFor } from '../meshes/registry.js';
import { VERSION_VARIANTS } from '../meshes/examples.js';
import { TARGETS, TARGET_NAMES, targetOptions } from '../targets/registry.js';
import type { RunOptions } from './run.js';
import type { GateOptions } from './report.js';
// Each command's implementation is imported when it runs: together they load cucumber, the
// Kubernetes client and the report builders, seconds of start-up that `--help` or `plan` never need.

const log = (m: string) => process.stderr.write(`meshcheck: ${m}\n`);

const program = new Command('meshcheck')
  .description('Chaos and conformance tests for service meshes: Gherkin scenarios, statistical verdicts, Allure reports.')
  .exitOverride()
  .addHelpText('after', '\nExit codes: 0 passed or not supported, 1 failed or inconclusive, 2 usage error, 3 broken, 130 interrupted.');

const run = program.command('run')
  .description('Run feature files (default: every bundled feature on the local target with the reference mesh)')
  .argument('[paths...]', 'feature files or folders')
  .addOption(new Option('--target <target>', 'where to run').choices([...TARGET_NAMES]).default(TARGET_NAMES[0]))
  .option('--mesh <mesh>', `mesh under test: ${TARGET_NAMES.map((n) => `on ${n}, ${TARGETS.filter((t) => t.target === n).map((t) => t.runsWhat).join(' or ')}`).join('; ')}`, REFERENCE.name)
  .option('--tags <expr>', 'cucumber tag expression, e.g. "@mtls and not @slow"')
  .addOption(new Option('--load-engine <engine>', 'load generator on the local target (the kube target runs k6 in the cluster, or meshcheck-proxyless on proxyless gRPC)').choices(['embedded', 'k6']).default('embedded'))
  .option('--out <dir>', 'run folder for Allure results, JUnit XML and the run record (default runs/<run id>)');
// Each target's own options, as it declares them (src/targets/<target>/plugin.ts).
for (const { spec } of targetOptions()) run.option(spec.flag, spec.description);
run
  .option('--no-progress', 'no live progress line')
  .option('--report', 'afterwards build the comparative report and the Allure HTML into <out>/report (as meshcheck report does)')
  .option('--history-dir <dir>', 'with --report: where Allure history is kept between runs')
  .action(
    async (
      paths: string[],
      o: Omit<RunOptions, 'options'> & { report?: boolean; historyDir?: string } & Record<string, string | undefined>,
    ) => {
      if (o.historyDir && !o.report) throw new UsageError('--history-dir is used by --report; add --report (or pass it to meshcheck report)');
      const { lastRunOut, run: runFeatures } = await import('./run.js');
      const options = Object.fromEntries(targetOptions().map(({ spec }) => [spec.name, o[spec.name]]));
      const code = await runFeatures(paths, { ...o, options });
      process.exitCode = code;
      // A usage error (2) leaves nothing to report on.
      if (o.report && code !== 2) {
        try {
          const { report } = await import('./report.js');
          await report([lastRunOut()], { historyDir: o.historyDir, allure: true }, log);
        } catch (err) {
          process.stderr.write(`meshcheck: report: ${describeError(err)}\n`);
          if (code === 0) process.exitCode = err instanceof UsageError ? 2 : 3;
        }
      }
    },
  );

program.command('report')
  .description('Build the comparative overhead report (HTML with charts, Markdown, JSON, SMP export) and the Allure HTML from run folders')
  .argument('[runDirs...]', 'run folders (default: runs/latest, else the newest under runs/); several = one report across them, e.g. one run per mesh')
  .option('--out <dir>', 'report folder (default <first run>/report)')
  .option('--history-dir <dir>', 'where Allure history is kept between runs (trend charts, per-test history)')
  .option('--no-allure', 'skip the Allure HTML (no Java needed)')
  .action(async (dirs: string[], o: { out?: string; historyDir?: string; allure: boolean }) => {
    const { report } = await import('./report.js');
    await report(dirs, o, log);
  });

program.command('gate')
  .alias('compare')
  .description('Regression gate between two runs: latency p50/p90/p99 of every load, added latency, sidecar CPU and memory, policy convergence and every verdict, side by side; '
    + 'exit 1 on a regression that is significant and beyond its threshold, 2 when the runs cannot be gated (other scenarios, other engines, an undecided scenario), else 0')
  .argument('<baseline>', 'run folder (or run-record.json) of the baseline')
  .argument('<candidate>', 'run folder (or run-record.json) of the candidate')
  .option('--max-latency-regression <pct>', 'largest increase of a load\'s p50, p90 or p99 tolerated', '10%')
  .option('--max-added-latency <ms>', 'largest increase of an overhead measurement\'s added latency tolerated', '0.5ms')
  .option('--max-cpu-regression <pct>', 'largest increase of a sidecar\'s CPU per 1000 rps tolerated', '20%')
  .option('--max-memory-regression <pct>', 'memory increase shown as beyond (one reading per sidecar: never fails the gate)', '20%')
  .option('--max-convergence-regression <pct>', 'largest increase of the median policy convergence time tolerated', '50%')
  .option('--stall <ms>', 'longest stall a load\'s requests may share: a load of D ms counts as D / this independent looks at its quantiles (0ms: every request independent)', '100ms')
  .option('--baseline-again <run>', 'a second run of the baseline: a figure or claim regresses only when worse than both baseline runs (run-to-run noise)')
  .option('--out <dir>', 'also write gate.md, gate.json and gate.html there')
  .action(async (baseline: string, candidate: string, o: GateOptions) => {
    const { gate } = await import('./report.js');
    const r = gate(baseline, candidate, o, log);
    process.stdout.write(r.text);
    process.exitCode = r.code;
  });

program.command('plan')
  .description('Show, per scenario, how a mesh would express it (native / emulated / not supported) and the exact manifests; no cluster needed')
  .argument('[paths...]', 'feature files or folders (default: every bundled feature)')
  .option('--mesh <mesh>', `${MESH_NAMES.join(', ')}; a version with @, e.g. ${VERSION_VARIANTS.join(', ')}; without it, the reference mesh: what each claim's budget can decide`, REFERENCE.name)
  .option('--namespace <ns>', 'namespace the manifests are rendered for', 'meshcheck')
  .addOption(new Option('--format <format>', 'output format').choices(['text', 'yaml', 'json']).default('text'))
  .option('--no-manifests', 'levels and reasons only')
  .option('--workload', 'also print the application workload (Namespace, Services, Deployments) for this mesh')
  .action(async (paths: string[], o: { mesh: string; namespace: string; format: 'text' | 'yaml' | 'json'; manifests: boolean; workload?: boolean }) => {
    const { plan } = await import('./plan.js');
    process.stdout.write(plan(paths, o));
  });

program.command('conformance')
  .description('Conformance report for a mesh (shaped like Gateway API\'s ConformanceReport), or the capability x mesh matrix')
  .argument('[paths...]', 'feature files or folders (default: every bundled feature)')
  .option('--mesh <mesh>', 'mesh (and version with @) to report on')
  .option('--run <dir>', 'a run folder whose run-record.json gives the outcomes (else only NOT_SUPPORTED is known)')
  .option('--matrix', 'print the capability x mesh matrix (Markdown), as in docs/meshes.md')
  .action(async (paths: string[], o: { mesh?: string; run?: string; matrix?: boolean }) => {
    const { conformance } = await import('./plan.js');
    process.stdout.write(conformance(paths, o));
  });

program.command('doctor')
  .description('Show what is installed and reachable, and how to fix what is not')
  .action(async () => {
    const { doctor } = await import('./doctor.js');
    process.exitCode = doctor();
  });

type InstallFlags = { mesh: string; context?: string; kubeconfig?: string; with?: string; charts?: string; timeout: string; dataPlane?: string; revision?: string }
  & { imageMirror?: string; set?: string[]; dryRun?: boolean; uninstall?: boolean };
program.command('install')
  .description('Install a mesh (and Prometheus) on a cluster from the pinned Helm profiles in clusters/profiles, with helm and kubectl; again = no change')
  .requiredOption('--mesh <mesh>', 'a mesh with a profile in clusters/profiles/<mesh>.yaml; MESH@MINOR for another minor the profile pins (istio@1.30, istio@1.31)')
  .option('--context <ctx>', 'kube context to install into, required (never taken implicitly)')
  .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG, then ~/.kube/config)')
  .option('--with <profiles>', 'add-on profiles after the mesh, comma-separated: prometheus, metrics-server, or none (default: prometheus; on meshcheck\'s own node, only those it has the charts and images for)')
  .option('--charts <dir>', 'install each chart from <dir>/<chart>/ or <dir>/<chart>-<version>.tgz (as helm pull saves it) instead of its repository, e.g. where the chart repositories cannot be reached')
  .option('--timeout <duration>', 'how long helm waits for each release to be ready', '10m')
  .option('--image-mirror <registry>', 'take each image the profiles pin from this registry, e.g. registry.example.com/mirror (on meshcheck\'s own node, its local images are used without it)')
  .option('--set <RELEASE.PATH=VALUE>', 'a chart value for one release, over the profile\'s, e.g. istiod.global.logging.level=default:debug (repeatable)', (v: string, all: string[] = []) => [...all, v])
  .option('--data-plane <name>', 'the data plane the runs on this install will use, where the mesh has more than one (istio: sidecar or proxyless; one istiod serves both): checked, and named in the run command install prints')
  .option('--revision <rev>', 'install the mesh\'s per-revision releases (istiod) as RELEASE-REV beside the ones there, as a canary upgrade does; with --uninstall, remove only that revision\'s')
  .option('--dry-run', 'print the helm and kubectl commands, run nothing')
  .option('--uninstall', 'remove the profiles\' releases (reverse order) and the namespaces install created')
  .action(async (o: InstallFlags) => {
    if (!o.context) throw new UsageError('install needs --context CTX: meshcheck never uses the current kube context implicitly');
    const { profileNames } = await import('../install/profiles.js');
    const meshes = MESH_NAMES.filter((m) => profileNames().includes(m));
    const [mesh, minor] = o.mesh.split('@') as [string, string | undefined];
    if (!meshes.includes(mesh)) throw new UsageError(`--mesh ${o.mesh}: install knows ${meshes.join(', ')} (clusters/profiles)`);
    const addOns = o.with === 'none' ? [] : (o.with ?? 'prometheus').split(',').map((s) => s.trim()).filter(Boolean);
    const known = profileNames().filter((p) => !meshes.includes(p));
    for (const a of addOns) if (!known.includes(a)) throw new UsageError(`--with ${a}: no such add-on profile (clusters/profiles has ${known.join(', ')}; or none)`);
    if (!/^\d+(s|m|h)$/.test(o.timeout)) throw new UsageError(`--timeout ${o.timeout}: a duration such as 10m or 300s`);
    if (o.dataPlane) dataPlaneFor(meshFor(mesh).mesh, 'kube', o.dataPlane);
    const { kubeClient, kubeconfigPath } = await import('../kube/client.js');
    kubeClient({ context: o.context, kubeconfig: o.kubeconfig });
    const { install, uninstall } = await import('../install/install.js');
    const opts = { context: o.context, kubeconfig: kubeconfigPath(o.kubeconfig), profiles: [mesh, ...addOns], ...(minor !== undefined ? { minor } : {}), ...(o.revision !== undefined ? { revision: o.revision } : {}), timeout: o.timeout, dryRun: o.dryRun, log: (m: string) => process.stderr.write(`meshcheck install: ${m}\n`) };
    if (o.uninstall) await uninstall(opts);
    else await install({ ...opts, charts: o.charts, imageMirror: o.imageMirror, set: o.set, defaultAddOns: o.with === undefined, dataPlane: o.dataPlane });
  });

const cluster = program.command('cluster')
  .description('A real single-node Kubernetes cluster on this machine (kubelet, containerd, kube-proxy; images built here, no registry), for --target kube; needs root');
cluster.command('up')
  .description('Start the node and its control plane; add a kubeconfig context for it; wait until the Node is Ready')
  .option('--context <name>', 'the kubeconfig context to add', 'meshcheck-node')
  .option('--kubeconfig <file>', 'the kubeconfig file to add it to (default $KUBECONFIG, then ~/.kube/config)')
  .action(async (o: { context: string; kubeconfig?: string }) => {
    const { clusterUp } = await import('../cluster/node.js');
    const r = await clusterUp({ ...o, log: (m) => process.stderr.write(`meshcheck cluster: ${m}\n`) });
    process.stdout.write(`Node Ready in ${r.seconds.toFixed(1)} s; context ${r.context} in ${r.kubeconfig}\n`
      + `images: ${r.images.app} (echo workload), ${r.images.k6} (k6), ${r.images.sandbox} (sandbox)\n`
      + `next: meshcheck run --target kube --context ${r.context} --mesh none; meshcheck cluster down stops it\n`);
  });
cluster.command('down')
  .description('Stop the node and undo every change it made to this machine (processes, containers, links, nftables/iptables rules, mounts, cgroups, sysctls, the context)')
  .action(async () => {
    const { clusterDown } = await import('../cluster/node.js');
    await clusterDown({ log: (m) => process.stdout.write(`meshcheck cluster: ${m}\n`) });
  });
cluster.command('status')
  .description('Whether the node runs, its readiness and its pods (exit 0 when Ready, 1 otherwise)')
  .action(async () => {
    const { clusterStatus } = await import('../cluster/node.js');
    const s = await clusterStatus();
    process.stdout.write(`${s.detail.join('\n')}\n`);
    process.exitCode = s.up ? 0 : 1;
  });

program.command('cleanup')
  .description('Undo what a crashed or killed run left behind (processes, files, cluster objects), from its ledger; with --context, from what the runs left in that cluster')
  .option('--run-id <id>', 'clean up one run')
  .option('--orphans', 'clean up every run whose meshcheck process is gone (the default)')
  .option('--context <ctx>', 'also find leftovers in this kube context by label (app.kubernetes.io/managed-by=meshcheck), e.g. from another machine; with --run-id, only that run\'s')
  .option('--kubeconfig <file>', 'with --context: the kubeconfig file (default $KUBECONFIG, then ~/.kube/config)')
  .action(async (o: { runId?: string; orphans?: boolean; context?: string; kubeconfig?: string }) => {
    const { cleanupCluster, orphanLedgers, undoLedger } = await import('./cleanup.js');
    const { Ledger } = await import('../ledger/ledger.js');
    if (o.kubeconfig && !o.context) throw new UsageError('--kubeconfig is used with --context; add --context CTX');
    const targets = o.runId ? Ledger.list().filter((l) => l.runId === o.runId) : orphanLedgers();
    if (o.runId && targets.length === 0 && !o.context) throw new UsageError(`--run-id ${o.runId}: no ledger for that run (already clean?); to look in a cluster too, add --context CTX`);
    if (targets.length === 0) process.stdout.write('nothing to clean up from the ledgers on this machine\n');
    for (const t of targets) {
      const done = await undoLedger(t.file);
      process.stdout.write(`${t.runId}: ${done.length ? done.join('; ') : 'nothing left'}\n`);
    }
    if (o.context) {
      const { kubeClient } = await import('../kube/client.js');
      const done = await cleanupCluster(kubeClient({ context: o.context, kubeconfig: o.kubeconfig }), o.runId);
      process.stdout.write(`context ${o.context}: ${done.length ? done.join('; ') : 'nothing left'}\n`);
    }
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  process.stderr.write(`meshcheck: ${describeError(err)}\n`);
  // Anything that is not a usage error is the harness's own failure: broken.
  process.exit(err instanceof UsageError ? 2 : 3);
}
