import { UsageError } from '../../errors.js';
import type { K8sObject } from '../../kube/objects.js';

/**
 * Objects outside the run's namespace need the user's leave (--allow-changes-in), kube-system
 * included; cluster-scoped objects other than the run's own Namespace are never changed. Why not, or
 * undefined when every object may be changed.
 */
export function refusedChanges(objects: readonly K8sObject[], namespace: string, allowed: readonly string[]): string | undefined {
  const outside = objects.filter((o) => {
    if (o.kind === 'Namespace') return o.metadata.name !== namespace;
    return !o.metadata.namespace || (o.metadata.namespace !== namespace && !allowed.includes(o.metadata.namespace));
  });
  if (!outside.length) return undefined;
  const names = outside.map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`);
  const namespaces = [...new Set(outside.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : [])))];
  const scoped = outside.some((o) => !o.metadata.namespace);
  return `this scenario would change ${names.join(', ')} outside the run's namespace ${namespace}; meshcheck changes nothing there unless allowed${namespaces.length ? `: --allow-changes-in ${namespaces.join(',')}` : ''}${scoped ? `${namespaces.length ? '; ' : ': '}cluster-scoped objects are never changed` : ''}`;
}

/** `--allow-changes-in a,b`: the list, each a valid namespace name. */
export function allowedNamespaces(flag: string | undefined): string[] {
  if (!flag) return [];
  const list = flag.split(',').map((s) => s.trim()).filter(Boolean);
  for (const ns of list) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) throw new UsageError(`--allow-changes-in: "${ns}" is not a namespace name`);
  return list;
}
