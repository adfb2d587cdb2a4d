import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { KubeObject } from './kustomize';

/**
 * Strict JSON Schemas of the Kubernetes API, with unknown fields rejected as `kubectl apply` and
 * kubeconform's strict mode reject them, validated with ajv.
 *
 * No npm package ships the upstream JSON Schemas (kubernetes-json-schema, kubeconform's) of a
 * current release, so they are derived here from @kubernetes/client-node, whose models the
 * Kubernetes project generates from the release's OpenAPI document (their header says which: see
 * `specVersion`). Every model becomes an object schema with `additionalProperties: false`; its
 * `attributeTypeMap` gives each field's JSON name and type, its declaration which fields are
 * required, and the API classes which model each apiVersion and kind is served as.
 *
 * Known differences from the API server: resource quantities must be strings (`cpu: "1"`, as the
 * client types them), `null` is not accepted for an absent field, and enum values and formats are
 * not checked.
 */
const require = createRequire(import.meta.url);
const generated = join(dirname(require.resolve('@kubernetes/client-node')), 'gen');
const SCHEMA_BASE = 'https://bindery.invalid/kubernetes/';

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

type Schema = Record<string, unknown>;

export class KubernetesSchemas {
  /** The Kubernetes release the schemas describe, e.g. `release-1.36`. */
  readonly specVersion: string;
  readonly #ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  readonly #added = new Set<string>();
  readonly #validators = new Map<string, ValidateFunction>();
  /** `apps/v1 Deployment` → `V1Deployment`. */
  readonly #models = new Map<string, string>();

  constructor() {
    const header = readFileSync(join(generated, 'models', 'V1ObjectMeta.d.ts'), 'utf8');
    this.specVersion = /OpenAPI spec version: (\S+)/.exec(header)?.[1] ?? 'unknown';
    this.#indexKinds();
  }

  /** Problems with `object` (none when it is valid), each as `<path> <message>`. */
  validate(object: KubeObject): string[] {
    const validator = this.#validatorFor(object.apiVersion, object.kind);
    if (!validator)
      return [`/ ${object.apiVersion} ${object.kind} is not served by Kubernetes ${this.specVersion}`];
    return validator(object) ? [] : (validator.errors ?? []).map(describe);
  }

  #validatorFor(apiVersion: string, kind: string): ValidateFunction | undefined {
    const key = `${apiVersion} ${kind}`;
    const cached = this.#validators.get(key);
    if (cached) return cached;
    const model = this.#models.get(key);
    if (!model) return undefined;
    this.#addModel(model);
    const validator = this.#ajv.compile({
      $id: `${SCHEMA_BASE}kinds/${model}.json`,
      type: 'object',
      allOf: [{ $ref: `../${model}.json` }],
      properties: { apiVersion: { const: apiVersion }, kind: { const: kind }, metadata: { type: 'object' } },
      required: ['apiVersion', 'kind', 'metadata'],
    });
    this.#validators.set(key, validator);
    return validator;
  }

  /** Which model each served apiVersion and kind is, from the `create…` calls of the API classes. */
  #indexKinds() {
    const apis = join(generated, 'apis');
    const create =
      /async create(?:Namespaced)?(\w+?)\((?:namespace, )?body,[\s\S]*?localVarPath = '([^']+)'[\s\S]*?serialize\(body, "(\w+)"/g;
    for (const file of readdirSync(apis).filter((name) => /V\d\w*Api\.js$/.test(name))) {
      for (const [, kind, path, model] of readFileSync(join(apis, file), 'utf8').matchAll(create)) {
        if (!kind || !path || !model || path.includes('{name}')) continue; // subresources
        const segments = path.replace(/^\/apis?\//, '').split('/');
        const groupVersion = path.startsWith('/api/') ? segments[0] : segments.slice(0, 2).join('/');
        this.#models.set(`${groupVersion} ${kind}`, model);
      }
    }
  }

  #addModel(model: string) {
    if (this.#added.has(model)) return;
    this.#added.add(model);
    const source = readFileSync(join(generated, 'models', `${model}.js`), 'utf8');
    const map = /\.attributeTypeMap = (\[[\s\S]*?\]);/.exec(source)?.[1];
    if (!map) throw new Error(`@kubernetes/client-node: no attributeTypeMap in ${model}`);
    const attributes = JSON.parse(map) as Attribute[];
    const declaration = readFileSync(join(generated, 'models', `${model}.d.ts`), 'utf8');
    const required = new Set([...declaration.matchAll(/^ {4}'([^']+)': /gm)].map((match) => match[1]));
    const properties: Record<string, Schema> = {};
    for (const attribute of attributes)
      properties[attribute.baseName] = this.#typeSchema(attribute.type, attribute.format);
    const requiredFields = attributes
      .filter((attribute) => required.has(attribute.name))
      .map((a) => a.baseName);
    this.#ajv.addSchema({
      $id: `${SCHEMA_BASE}${model}.json`,
      type: 'object',
      properties,
      additionalProperties: false,
      ...(requiredFields.length > 0 ? { required: requiredFields } : {}),
    });
  }

  #typeSchema(type: string, format: string): Schema {
    if (type === 'string' || type === 'Date') return { type: 'string' };
    if (type === 'boolean') return { type: 'boolean' };
    if (type === 'number') return { type: format.startsWith('int') ? 'integer' : 'number' };
    if (type === 'IntOrString') return { type: ['integer', 'string'] };
    if (type === 'any') return {};
    const item = /^Array<(.+)>$/.exec(type)?.[1];
    if (item) return { type: 'array', items: this.#typeSchema(item, '') };
    const value = /^\{ \[key: string\]: (.+); \}$/.exec(type)?.[1];
    if (value) return { type: 'object', additionalProperties: this.#typeSchema(value, '') };
    this.#addModel(type);
    return { $ref: `${type}.json` };
  }
}

function describe(error: ErrorObject): string {
  const path = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') {
    return `${path} has an unknown field \`${(error.params as { additionalProperty: string }).additionalProperty}\``;
  }
  return `${path} ${error.message}`;
}
