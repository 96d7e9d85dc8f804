import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * How busy the machine was over a load, from /proc (Linux). "Ours" is meshcheck's own CPU: this
 * process, the children it has waited for (k6 runs), its running children, and every process in
 * the process groups it names (the local target's sidecars, workloads and Prometheus). "Others" is
 * what the rest of the machine used: the busy time in /proc/stat minus ours. Steal is the time a
 * hypervisor gave this machine's CPUs to another guest: the guest kernel does not see it as anyone
 * waiting (CPU pressure and run-queue wait miss it), yet every process ran that much less. CPU pressure is
 * the kernel's own measure of contention (/proc/pressure/cpu, "some": the share of time at least
 * one runnable task waited for a CPU). Run-queue wait is the direct measure of whether meshcheck's
 * own processes were slowed by the machine: the time their main threads were runnable but had no
 * CPU (/proc/PID/schedstat).
 */
export interface CpuSnapshot {
  atMs: number;
  /** Busy ticks of every CPU (user, nice, system, irq, softirq), in USER_HZ ticks. */
  busyTicks: number;
  /** Ticks the hypervisor gave this machine's CPUs to someone else (steal). */
  stealTicks: number;
  /** Ticks of meshcheck's own processes. */
  ourTicks: number;
  /** Nanoseconds meshcheck's processes (main threads) spent runnable but waiting for a CPU, from /proc/PID/schedstat. */
  ourWaitNs: number;
  /** Cumulative CPU stall time ("some"), in microseconds; undefined where PSI is not available. */
  pressureUs?: number;
}

export interface MachineLoad {
  cores: number;
  /** CPU used by processes that are not meshcheck's, in cores (averaged over the load). */
  otherCpuCores: number;
  /** CPU the hypervisor took from this machine for other guests (steal), in cores. */
  stealCores: number;
  /** CPU used by meshcheck's own processes (engine, sidecars, workloads), in cores. */
  meshcheckCpuCores: number;
  /** Share of the time some runnable task waited for a CPU; null where the kernel does not report it. */
  cpuPressure: number | null;
  /** Time meshcheck's processes spent waiting for a CPU while runnable, in ms over the whole load. */
  meshcheckCpuWaitMs: number;
  /** False when /proc could not be read (not Linux): the figures are then zero and say nothing. */
  measured: boolean;
}

// /proc reports times in USER_HZ, which Linux fixes at 100 for user space on every architecture.
const USER_HZ = 100;

export function cpuSnapshot(groups: readonly number[] = []): CpuSnapshot {
  const atMs = performance.now();
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest is already inside user).
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
    const ours = ourProcesses(groups);
    return { atMs, busyTicks: user + nice + system + irq + softirq, stealTicks: steal, ourTicks: ours.ticks, ourWaitNs: ours.waitNs, pressureUs: pressure() };
  } catch {
    return { atMs, busyTicks: NaN, stealTicks: NaN, ourTicks: NaN, ourWaitNs: NaN };
  }
}

export function machineLoad(a: CpuSnapshot, b: CpuSnapshot): MachineLoad {
  const cores = availableParallelism();
  const seconds = (b.atMs - a.atMs) / 1000;
  if (!(seconds > 0) || Number.isNaN(a.busyTicks) || Number.isNaN(b.busyTicks))
    return { cores, otherCpuCores: 0, stealCores: 0, meshcheckCpuCores: 0, cpuPressure: null, meshcheckCpuWaitMs: 0, measured: false };
  const busy = (b.busyTicks - a.busyTicks) / USER_HZ / seconds;
  const ours = Math.max(0, (b.ourTicks - a.ourTicks) / USER_HZ / seconds);
  const cpuPressure = a.pressureUs !== undefined && b.pressureUs !== undefined ? Math.min(1, Math.max(0, (b.pressureUs - a.pressureUs) / 1e6 / seconds)) : null;
  const meshcheckCpuWaitMs = round(Math.max(0, b.ourWaitNs - a.ourWaitNs) / 1e6);
  const stealCores = round(Math.max(0, (b.stealTicks - a.stealTicks) / USER_HZ / seconds));
  return {
    cores,
    otherCpuCores: round(Math.max(0, busy - ours)),
    stealCores,
    meshcheckCpuCores: round(ours),
    cpuPressure: cpuPressure === null ? null : round(cpuPressure),
    meshcheckCpuWaitMs,
    measured: true,
  };
}

function ourProcesses(groups: readonly number[]): { ticks: number; waitNs: number } {
  const self = process.pid;
  let ticks = 0;
  let waitNs = 0;
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(name);
    const inGroup = groups.includes(Number(f[2]));
    const own = Number(f[11]) + Number(f[12]);
    const waited = Number(f[13]) + Number(f[14]);
    // Exited children's time moves into their parent's "waited" fields: count it for ours only.
    if (pid === self || inGroup) ticks += own + waited;
    else if (Number(f[1]) === self) ticks += own;
    else continue;
    waitNs += schedWait(name);
  }
  return { ticks, waitNs };
}

/** Run-queue wait of a process's main thread (the second field of /proc/PID/schedstat), ns. */
function schedWait(pid: string): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) || 0;
  } catch {
    return 0;
  }
}

function pressure(): number | undefined {
  try {
    const m = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function round(x: number): number {
  return Number(x.toFixed(3));
}
