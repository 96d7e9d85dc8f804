/**
 * Entry point of the local target's child processes: `main.js sidecar|workload '<boot json>'`.
 * Prints one line `READY <json with ports>` once listening. SIGINT is ignored: the parent owns the
 * lifetime of its children and stops them after cleanup; SIGTERM ends the process.
 */
import { Sidecar } from './sidecar.js';
import { EchoWorkload } from './workload.js';
import type { SidecarBoot, WorkloadBoot } from './config.js';

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => process.exit(0));

const [role, json] = process.argv.slice(2);
try {
  const boot = JSON.parse(json ?? '') as unknown;
  let ports: object;
  if (role === 'sidecar') ports = await new Sidecar(boot as SidecarBoot).start();
  else if (role === 'workload') ports = await new EchoWorkload(boot as WorkloadBoot).start();
  else throw new Error(`unknown role "${role}"; expected sidecar or workload`);
  process.stdout.write(`READY ${JSON.stringify({ pid: process.pid, ...ports })}\n`);
} catch (err) {
  process.stderr.write(`meshcheck ${role}: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
