import type { Estimate } from '../overhead/overhead.js';
import type { MeasuredRow } from './comparative.js';

/** How the comparative report's formats write a figure: a number, an estimate with its interval, a row's sidecars. */
export const fmt = (x: number | null | undefined, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '-' : Number(x.toFixed(d)).toString());
export const est = (e: Estimate | undefined, d = 3) => (!e ? '-' : e.lo === null && e.hi === null ? fmt(e.estimate, d) : `${fmt(e.estimate, d)} [${fmt(e.lo, d)}, ${fmt(e.hi, d)}]`);
export const worstCpu = (r: MeasuredRow) => r.sidecars?.map((s) => `${s.instance} ${est(s.vcpuPer1000Rps)}`).join('; ') || '-';
export const mem = (r: MeasuredRow) => r.sidecars?.map((s) => `${s.instance} ${fmt(s.memoryMb, 1)}`).join('; ') || '-';
