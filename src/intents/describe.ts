import type { Intent } from './types.js';

/** One line naming an intent and its figures, for plans, evidence and NOT_SUPPORTED reasons. */
export function describeIntent(i: Intent): string {
  switch (i.kind) {
    case 'FaultAbort': return `FaultAbort ${i.service}: ${i.percent}% with ${i.httpStatus}`;
    case 'FaultDelay': return `FaultDelay ${i.service}: ${i.percent}% by ${i.delayMs}ms`;
    case 'TrafficSplit': return `TrafficSplit ${i.service}: ${i.weights.map((w) => `${w.version}=${w.weight}`).join(', ')}`;
    case 'HeaderRoute': return `HeaderRoute ${i.service}: ${i.header}=${i.value} -> ${i.version}`;
    case 'MtlsMode': return `MtlsMode ${i.service ?? '(namespace)'}: ${i.mode}`;
    case 'ConnectionPool': return `ConnectionPool ${i.service}: ${i.maxConnections} connections, ${i.maxPendingRequests} pending`;
    case 'OutlierDetection': return `OutlierDetection ${i.service}: ${i.consecutive5xx} consecutive 5xx, eject ${i.baseEjectionMs}ms`;
    case 'Retry': return `Retry ${i.service}: ${i.attempts} on ${i.retryOn.join(',')}`;
    case 'Timeout': return `Timeout ${i.service}: ${i.timeoutMs}ms`;
    case 'Authorization': return `Authorization ${i.service}: allow ${i.allowFrom.join(', ')}`;
  }
}
