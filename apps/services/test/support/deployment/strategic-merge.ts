/**
 * Strategic merge patch, as kustomize applies it to built-in kinds, for the lists docker/k8s patches:
 * objects merge key by key, `null` deletes a key, lists with a merge key in the Kubernetes API
 * (containers by name, container ports by containerPort, Service ports by port, …) merge item by
 * item, and every other list is replaced whole. Patch directives (`$patch`, `$retainKeys`, …) are
 * refused rather than half-applied.
 * @see https://github.com/kubernetes/community/blob/master/contributors/devel/sig-api-machinery/strategic-merge-patch.md
 */
export function strategicMerge(target: unknown, patch: unknown, kind: string, path: string[] = []): unknown {
  if (isRecord(patch)) {
    const base = isRecord(target) ? { ...target } : {};
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$'))
        throw new Error(`strategic merge subset: directive ${key} at ${path.join('.')}`);
      if (value === null) delete base[key];
      else base[key] = strategicMerge(base[key], value, kind, [...path, key]);
    }
    return base;
  }
  if (Array.isArray(patch) && Array.isArray(target)) {
    const key = mergeKey(path, kind);
    if (!key) return patch;
    const merged = [...target];
    for (const item of patch) {
      const index = isRecord(item)
        ? merged.findIndex((existing) => isRecord(existing) && existing[key] === item[key])
        : -1;
      if (index >= 0) merged[index] = strategicMerge(merged[index], item, kind, [...path, '[]']);
      else merged.push(item);
    }
    return merged;
  }
  return patch;
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/** The patchMergeKey of the list at `path`, from the Kubernetes API types; none means replace. */
function mergeKey(path: string[], kind: string): string | undefined {
  const field = path.at(-1) ?? '';
  const inContainer = path.at(-2) === '[]' && CONTAINER_LISTS.has(path.at(-3) ?? '');
  if (CONTAINER_LISTS.has(field) || field === 'volumes' || field === 'imagePullSecrets') return 'name';
  if (field === 'topologySpreadConstraints') return 'topologyKey';
  if (inContainer && field === 'env') return 'name';
  if (inContainer && field === 'volumeMounts') return 'mountPath';
  if (inContainer && field === 'ports') return 'containerPort';
  if (kind === 'Service' && path.join('.') === 'spec.ports') return 'port';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
