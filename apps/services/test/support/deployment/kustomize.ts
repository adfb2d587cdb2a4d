import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { strategicMerge } from './strategic-merge';

/**
 * A subset of `kustomize build` (kustomize v5, the one inside `kubectl kustomize`), written to render
 * docker/k8s where neither kustomize nor kubectl can be installed from the registries this project
 * uses. It does what docker/k8s needs, as kustomize does it, and refuses every other field rather
 * than ignoring it:
 *
 * - `resources` (files and directories with their own kustomization), `namespace`, `labels` (pairs
 *   on metadata only), `images`, `replicas`, `patches` (strategic merge, by the patch's own kind and
 *   name or by `target`);
 * - `configMapGenerator` / `secretGenerator` (`envs`, `literals`, behaviours create, merge, replace)
 *   with kustomize's content-hash name suffix, added once at the top as kustomize does, and the
 *   references to those names in pod specs and Ingress TLS rewritten to match.
 *
 * Where kubectl is on PATH the deployment test renders the same overlays with `kubectl kustomize`
 * and requires identical objects, so a divergence from kustomize shows up as a failing test.
 */
export interface KubeObject {
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

interface Generator {
  name: string;
  behavior?: 'create' | 'merge' | 'replace';
  envs?: string[];
  literals?: string[];
  type?: string;
}

interface Patch {
  path?: string;
  patch?: string;
  target?: { kind?: string; name?: string; namespace?: string };
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  replicas?: { name: string; count: number }[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  patches?: Patch[];
}

const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'images',
  'replicas',
  'configMapGenerator',
  'secretGenerator',
  'patches',
]);

/** Marks a generated object whose name gets the content hash at the end (kustomize's own marker). */
const NEEDS_HASH = 'internal.config.kubernetes.io/needsHashAnnotation';

/** Kinds without a namespace, among those a kustomization here may hold. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'IngressClass',
  'PersistentVolume',
  'PriorityClass',
  'StorageClass',
]);

const POD_TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
const SCALABLE_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

/** Renders the kustomization in `dir` as kustomize would print it (order aside). */
export function kustomizeBuild(dir: string): KubeObject[] {
  const objects = accumulate(dir);
  const renamed = new Map<string, string>();
  for (const object of objects) {
    const annotations = object.metadata.annotations;
    if (!annotations?.[NEEDS_HASH]) continue;
    delete annotations[NEEDS_HASH];
    if (Object.keys(annotations).length === 0) delete object.metadata.annotations;
    const hashed = `${object.metadata.name}-${contentHash(object)}`;
    renamed.set(referenceKey(object.kind, object.metadata.namespace, object.metadata.name), hashed);
    object.metadata.name = hashed;
  }
  for (const object of objects) fixReferences(object, renamed);
  return objects;
}

function accumulate(dir: string): KubeObject[] {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((name) => join(dir, name))
    .find((path) => existsSync(path));
  if (!file) throw new Error(`kustomize: no kustomization.yaml in ${dir}`);
  const kustomization = readYaml(file)[0] as Kustomization;
  for (const field of Object.keys(kustomization)) {
    if (!SUPPORTED_FIELDS.has(field)) {
      throw new Error(`kustomize subset: ${file} uses \`${field}\`, which this renderer does not implement`);
    }
  }

  const objects: KubeObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = resolve(dir, resource);
    const loaded = statSync(path).isDirectory() ? accumulate(path) : (readYaml(path) as KubeObject[]);
    for (const object of loaded) add(objects, object, path);
  }
  for (const generator of kustomization.configMapGenerator ?? [])
    generate(objects, generator, 'ConfigMap', dir);
  for (const generator of kustomization.secretGenerator ?? []) generate(objects, generator, 'Secret', dir);

  // Transformers, in kustomize's order.
  if (kustomization.namespace) {
    for (const object of objects) {
      if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = kustomization.namespace;
    }
  }
  for (const patch of kustomization.patches ?? []) applyPatch(objects, patch, dir);
  for (const label of kustomization.labels ?? []) {
    if (label.includeSelectors || label.includeTemplates) {
      throw new Error(
        'kustomize subset: labels apply to metadata only (no includeSelectors/includeTemplates)',
      );
    }
    for (const object of objects) {
      object.metadata.labels = { ...object.metadata.labels, ...label.pairs };
    }
  }
  for (const image of kustomization.images ?? []) {
    for (const object of objects) {
      for (const container of containersOf(object)) {
        if (typeof container.image === 'string') container.image = retag(container.image, image);
      }
    }
  }
  for (const { name, count } of kustomization.replicas ?? []) {
    const targets = objects.filter(
      (object) => SCALABLE_KINDS.has(object.kind) && object.metadata.name === name,
    );
    if (targets.length === 0) throw new Error(`kustomize: replicas for ${name} match no workload`);
    for (const target of targets) (target.spec as Record<string, unknown>).replicas = count;
  }
  return objects;
}

function readYaml(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]?.message}`);
      return document.toJS({ maxAliasCount: -1 }) as unknown;
    })
    .filter((document) => document !== null && document !== undefined);
}

function objectId(object: KubeObject): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function add(objects: KubeObject[], object: KubeObject, source: string) {
  if (!object?.apiVersion || !object.kind || !object.metadata?.name) {
    throw new Error(`kustomize: ${source} holds a document without apiVersion, kind and metadata.name`);
  }
  if (objects.some((existing) => objectId(existing) === objectId(object))) {
    throw new Error(`kustomize: ${objectId(object)} from ${source} is already defined`);
  }
  objects.push(object);
}

function generate(objects: KubeObject[], generator: Generator, kind: 'ConfigMap' | 'Secret', dir: string) {
  const unknown = Object.keys(generator).filter(
    (field) =>
      !['name', 'behavior', 'envs', 'literals', ...(kind === 'Secret' ? ['type'] : [])].includes(field),
  );
  if (unknown.length > 0) throw new Error(`kustomize subset: ${kind} generator field ${unknown.join(', ')}`);
  const pairs: Record<string, string> = {};
  for (const envFile of generator.envs ?? []) {
    Object.assign(pairs, parseEnvFile(readFileSync(resolve(dir, envFile), 'utf8'), envFile));
  }
  for (const literal of generator.literals ?? []) {
    const separator = literal.indexOf('=');
    if (separator < 0) throw new Error(`kustomize: literal ${literal} has no '='`);
    pairs[literal.slice(0, separator)] = unquote(literal.slice(separator + 1));
  }
  const data =
    kind === 'Secret'
      ? Object.fromEntries(Object.entries(pairs).map(([key, value]) => [key, encodeBase64(value)]))
      : pairs;

  const behavior = generator.behavior ?? 'create';
  const existing = objects.find((object) => object.kind === kind && object.metadata.name === generator.name);
  if (behavior === 'create') {
    if (existing) throw new Error(`kustomize: ${kind} ${generator.name} already exists; use behavior merge`);
    const object: KubeObject = {
      apiVersion: 'v1',
      kind,
      metadata: { name: generator.name, annotations: { [NEEDS_HASH]: 'needed' } },
      data,
    };
    if (kind === 'Secret') object.type = generator.type ?? 'Opaque';
    objects.push(object);
    return;
  }
  if (!existing) throw new Error(`kustomize: ${behavior} of ${kind} ${generator.name}, which does not exist`);
  existing.data = behavior === 'merge' ? { ...(existing.data as Record<string, string>), ...data } : data;
}

/** kyaml's encodeBase64: base64 in lines of 70, each ending in a newline once there are two or more. */
function encodeBase64(value: string): string {
  const encoded = Buffer.from(value).toString('base64');
  if (encoded.length < 70) return encoded;
  return encoded.replace(/.{1,70}/g, (line) => `${line}\n`);
}

/** kustomize's env files: `KEY=VALUE` per line, blank lines and `#` comments skipped, no unquoting. */
function parseEnvFile(text: string, name: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const [index, raw] of text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .entries()) {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const separator = line.indexOf('=');
    // Without '=', kustomize would read the variable from its own environment: not reproducible.
    if (separator < 0) throw new Error(`kustomize subset: ${name}:${index + 1} has no '='`);
    const key = line.slice(0, separator);
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(key))
      throw new Error(`kustomize: ${name}:${index + 1} bad key ${key}`);
    pairs[key] = line.slice(separator + 1);
  }
  return pairs;
}

function unquote(value: string): string {
  const quote = value[0];
  return value.length >= 2 && (quote === '"' || quote === "'") && value.endsWith(quote)
    ? value.slice(1, -1)
    : value;
}

/**
 * kustomize's name suffix (api/hasher): SHA-256 of Go's JSON encoding of {data, kind, name} (plus
 * type for a Secret), its first 10 hex digits with 0, 1, 3, a, e swapped for letters. kustomize
 * looks the name up as a field literally called "metadata/name", finds none and hashes "" instead:
 * the suffix depends on the content alone, and so does this one.
 */
function contentHash(object: KubeObject): string {
  const encoded: Record<string, unknown> = { data: object.data ?? '', kind: object.kind, name: '' };
  if (object.kind === 'Secret') encoded.type = object.type ?? '';
  const hex = createHash('sha256').update(goJson(encoded)).digest('hex');
  const letters: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...hex.slice(0, 10)].map((digit) => letters[digit] ?? digit).join('');
}

/** JSON as Go's encoding/json writes it: keys sorted, and <, >, &, U+2028, U+2029 escaped. */
function goJson(value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${goJson(key)}:${goJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function applyPatch(objects: KubeObject[], patch: Patch, dir: string) {
  const unknown = Object.keys(patch).filter((field) => !['path', 'patch', 'target'].includes(field));
  if (unknown.length > 0) throw new Error(`kustomize subset: patch field ${unknown.join(', ')}`);
  const source = patch.path ? readFileSync(resolve(dir, patch.path), 'utf8') : (patch.patch ?? '');
  const documents = parseAllDocuments(source).map((document) => document.toJS() as unknown);
  for (const document of documents) {
    if (Array.isArray(document)) throw new Error('kustomize subset: JSON 6902 patches are not implemented');
    const patchObject = document as KubeObject;
    const target = patch.target ?? {
      kind: patchObject.kind,
      name: patchObject.metadata?.name,
      namespace: patchObject.metadata?.namespace,
    };
    const matches = objects.filter(
      (object) =>
        (!target.kind || object.kind === target.kind) &&
        (!target.name || object.metadata.name === target.name) &&
        (!target.namespace || object.metadata.namespace === target.namespace),
    );
    if (matches.length === 0) throw new Error(`kustomize: patch ${patch.path ?? ''} matches no resource`);
    for (const match of matches) {
      const { apiVersion: _apiVersion, kind: _kind, ...fields } = patchObject;
      if (patch.target) {
        // With a target the patch's own name is not a rename.
        const { name: _name, ...metadata } = fields.metadata ?? {};
        fields.metadata = metadata as KubeObject['metadata'];
      }
      const merged = strategicMerge(match, fields, match.kind) as KubeObject;
      Object.assign(match, merged);
    }
  }
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The value at `path` inside `value`, when every step is an object. */
function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) current = isRecord(current) ? current[key] : undefined;
  return current;
}

/** The objects of a list field, or none. */
function records(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function podSpecOf(object: KubeObject): Json | undefined {
  const spec =
    object.kind === 'Pod'
      ? object.spec
      : POD_TEMPLATE_KINDS.has(object.kind)
        ? at(object.spec, 'template', 'spec')
        : object.kind === 'CronJob'
          ? at(object.spec, 'jobTemplate', 'spec', 'template', 'spec')
          : undefined;
  return isRecord(spec) ? spec : undefined;
}

function containersOf(object: KubeObject): Json[] {
  const spec = podSpecOf(object);
  return ['containers', 'initContainers', 'ephemeralContainers'].flatMap((field) => records(spec?.[field]));
}

/** kustomize's image.Split: name, tag and digest of an image reference (a registry port is no tag). */
function splitImage(reference: string): { name: string; tag: string; digest: string } {
  const slash = Math.max(reference.indexOf('/'), 0);
  const searched = reference.slice(slash);
  const at = searched.indexOf('@');
  const colon = searched.indexOf(':');
  if (at < 0 && colon < 0) return { name: reference, tag: '', digest: '' };
  if (at >= 0 && (colon < 0 || at < colon)) {
    return { name: reference.slice(0, slash + at), tag: '', digest: reference.slice(slash + at + 1) };
  }
  const tagEnd = at >= 0 ? slash + at : reference.length;
  return {
    name: reference.slice(0, slash + colon),
    tag: reference.slice(slash + colon + 1, tagEnd),
    digest: at >= 0 ? reference.slice(slash + at + 1) : '',
  };
}

function retag(
  reference: string,
  image: { name: string; newName?: string; newTag?: string; digest?: string },
) {
  let { name, tag, digest } = splitImage(reference);
  if (name !== image.name) return reference;
  if (image.newName) name = image.newName;
  if (image.newTag && image.digest) [tag, digest] = [image.newTag, image.digest];
  else if (image.newTag) [tag, digest] = [image.newTag, ''];
  else if (image.digest) [tag, digest] = ['', image.digest];
  return `${name}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
}

function referenceKey(kind: string, namespace: string | undefined, name: string) {
  return `${kind}/${namespace ?? ''}/${name}`;
}

/** kustomize's nameReference for ConfigMaps and Secrets: follow their renames in the same namespace. */
function fixReferences(object: KubeObject, renamed: Map<string, string>) {
  const namespace = object.metadata.namespace;
  const rename = (kind: 'ConfigMap' | 'Secret', holder: unknown, field: string) => {
    if (!isRecord(holder) || typeof holder[field] !== 'string') return;
    const next = renamed.get(referenceKey(kind, namespace, holder[field]));
    if (next) holder[field] = next;
  };
  for (const container of containersOf(object)) {
    for (const variable of records(container.env)) {
      rename('ConfigMap', at(variable, 'valueFrom', 'configMapKeyRef'), 'name');
      rename('Secret', at(variable, 'valueFrom', 'secretKeyRef'), 'name');
    }
    for (const source of records(container.envFrom)) {
      rename('ConfigMap', source.configMapRef, 'name');
      rename('Secret', source.secretRef, 'name');
    }
  }
  const spec = podSpecOf(object);
  for (const volume of records(spec?.volumes)) {
    rename('ConfigMap', volume.configMap, 'name');
    rename('Secret', volume.secret, 'secretName');
    for (const source of records(at(volume, 'projected', 'sources'))) {
      rename('ConfigMap', source.configMap, 'name');
      rename('Secret', source.secret, 'name');
    }
  }
  for (const pullSecret of records(spec?.imagePullSecrets)) rename('Secret', pullSecret, 'name');
  if (object.kind === 'Ingress') {
    for (const tls of records(at(object.spec, 'tls'))) rename('Secret', tls, 'secretName');
  }
}
