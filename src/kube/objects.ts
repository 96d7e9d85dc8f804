/** A Kubernetes object as meshcheck renders it (plain data, ready for server-side apply). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** Where objects are rendered for: the namespace they go to, and the run they belong to. */
export interface ObjectContext {
  namespace: string;
  /** Run id stamped on every object, when rendering for a run. */
  runId?: string;
}

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'meshcheck' } as const;
export const RUN_ID_LABEL = 'meshcheck.io/run-id';
/** Marks an object meshcheck patches (server-side apply of a few fields) rather than creates. */
export const PATCH_ANNOTATION = 'meshcheck.io/patch';

/** Labels every object carries: managed-by, and the run id when rendering for a run. */
export function labels(ctx: ObjectContext, extra: Record<string, string> = {}): Record<string, string> {
  return { ...MANAGED_BY, ...(ctx.runId ? { [RUN_ID_LABEL]: ctx.runId } : {}), ...extra };
}

/** An object with metadata filled in; `namespaced: false` for cluster-scoped kinds. */
export function obj(
  ctx: ObjectContext,
  apiVersion: string,
  kind: string,
  name: string,
  body: Record<string, unknown>,
  opts: { namespace?: string | false; annotations?: Record<string, string>; labels?: Record<string, string> } = {},
): K8sObject {
  const ns = opts.namespace === false ? undefined : (opts.namespace ?? ctx.namespace);
  return {
    apiVersion,
    kind,
    metadata: {
      name,
      ...(ns ? { namespace: ns } : {}),
      labels: labels(ctx, opts.labels),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    ...body,
  };
}

/** A few fields of an object that already exists (installed by the mesh or by meshcheck's workload). */
export function patch(
  ctx: ObjectContext,
  apiVersion: string,
  kind: string,
  name: string,
  body: Record<string, unknown>,
  opts: { namespace?: string | false; annotations?: Record<string, string> } = {},
): K8sObject {
  const o = obj(ctx, apiVersion, kind, name, body, { namespace: opts.namespace, annotations: { ...opts.annotations, [PATCH_ANNOTATION]: 'true' } });
  delete o.metadata.labels;
  return o;
}


/** Removes undefined fields (renders are compared as YAML and sent as JSON). */
export function stripUndefined<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

