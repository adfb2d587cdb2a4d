import fc from 'fast-check';
import { type ZodType, z } from 'zod';

/**
 * Inputs for a procedure, derived from its zod schema through zod's own JSON Schema (`io: 'input'`:
 * what a caller may send, before defaults and transforms): valid shapes filled with hostile values,
 * and inputs outside the schema. Whether a generated input is valid is not assumed here: the test
 * asks the procedure's own parsers, then holds the service's answer to that.
 */

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** Fragments that have broken parsers, queries and pages elsewhere. */
const HOSTILE_FRAGMENTS = [
  "'; drop table users.users; --",
  "' or '1'='1",
  '" or ""="',
  '1; select pg_sleep(5); --',
  "admin'--",
  "\\'; truncate catalog.books cascade; --",
  '$1',
  '%',
  '_',
  '\\',
  '%%%_\\%',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
  '${process.exit(1)}',
  '__proto__',
  'constructor',
  '../../../../etc/passwd',
  '\u0000',
  'nul\u0000byte',
  '\u0007\u0008\u001b[31m',
  '\r\n\r\nHTTP/1.1 200 OK',
  '\u202eevil\u202c',
  '\u200b\u200d\ufeff',
  'Z\u0351\u0360\u035b\u0350a\u0366\u036dl\u0357g\u0342o',
  '😀👩‍👩‍👧‍👦🏳️‍🌈',
  '\ud800',
  '\udfff\ud800',
  'Ω≈ç√∫˜µ≤≥÷',
  '田中さんにあげて下さい',
  'مرحبا',
  '   ',
  '\t\n\v\f\r',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  'true',
  '{}',
  '[]',
  '0x7fffffff',
  '%00%27%22',
  '%E0%A4%A',
] as const;

const hostileFragment = fc.constantFrom(...HOSTILE_FRAGMENTS);

/** A string made to hurt: fragments, arbitrary code points (lone surrogates included), long runs. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: hostileFragment, weight: 4 },
  {
    arbitrary: fc
      .array(fc.oneof(hostileFragment, fc.string({ unit: 'binary' })), { maxLength: 6 })
      .map((parts) => parts.join('')),
    weight: 4,
  },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 64 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 64 }), weight: 2 },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom('a', 'é', '😀', "'", '\u0000', '<'),
        fc.constantFrom(255, 256, 1_000, 10_000, 100_000),
      )
      .map(([unit, count]) => unit.repeat(count)),
    weight: 1,
  },
);

/** A hostile string brought within `[min, max]` UTF-16 units, as zod counts them. */
function hostileStringWithin(min: number, max: number): fc.Arbitrary<string> {
  return hostileString.map((text) => {
    const cut = text.slice(0, max);
    return cut.length >= min ? cut : cut + 'x'.repeat(min - cut.length);
  });
}

const EMAIL_LOCAL = fc.constantFrom("o'brien", "x'--", 'a+b', 'Robert_Tables', "'or'1'", 'a.b-c', 'UPPER');
/** Addresses zod's email rule lets through, with quotes and pluses a query must not trip on. */
const hostileEmail = fc
  .tuple(
    EMAIL_LOCAL,
    fc.stringMatching(/^[0-9a-f]{1,8}$/),
    fc.constantFrom('bindery.test', 'xn--80ak6aa92e.com', 'a.co'),
  )
  .map(([local, suffix, domain]) => `${local}${suffix}@${domain}`);

/** Ids of rows that exist for a field: those of its kind when its name says (`bookId`, `userId`), else all. */
function knownIdsFor(knownIds: ArbitraryOptions['knownIds'], key: string): string[] {
  const kinds = Object.keys(knownIds).filter((kind) => key.toLowerCase().startsWith(kind));
  const ids = (kinds.length > 0 ? kinds : Object.keys(knownIds)).flatMap((kind) => knownIds[kind] ?? []);
  return ids.length > 0 ? ids : ['00000000-0000-0000-0000-000000000000'];
}

const uuidArbitrary = (knownIds: readonly string[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...knownIds), weight: 4 },
    { arbitrary: fc.uuid(), weight: 3 },
    {
      arbitrary: fc.constantFrom(
        '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
        'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF',
      ),
      weight: 1,
    },
    { arbitrary: hostileString, weight: 1 },
  );

/** Boundaries and their neighbours, and numbers no schema expects. */
function hostileNumber(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min =
    schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -(2 ** 31));
  const max =
    schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 2 ** 31);
  const inRange = integer ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true });
  const edges = [
    min,
    max,
    min - 1,
    max + 1,
    0,
    -1,
    1,
    -0,
    0.5,
    -(2 ** 31),
    2 ** 31 - 1,
    2 ** 53,
    -(2 ** 53),
    Number.MAX_SAFE_INTEGER + 2,
    1e308,
    -1e308,
    Number.EPSILON,
  ];
  return fc.oneof(
    { arbitrary: inRange, weight: 4 },
    { arbitrary: fc.constantFrom(...edges), weight: 3 },
    { arbitrary: fc.double(), weight: 1 },
  );
}

export interface ArbitraryOptions {
  /**
   * Ids of rows that exist by kind (`book`, `user`, …), so that id fields reach the code past "not
   * found"; a field named after a kind (`bookId`) gets ids of that kind.
   */
  knownIds: Readonly<Record<string, readonly string[]>>;
}

/** Values of the schema's shape (mostly within its rules), filled with hostile content. */
export function hostileValid(schema: JsonSchema, options: ArbitraryOptions, key = ''): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum)
    return fc.oneof(
      { arbitrary: fc.constantFrom(...schema.enum), weight: 6 },
      { arbitrary: hostileString, weight: 1 },
    );
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return fc.oneof(...branches.map((branch) => hostileValid(branch, options, key)));
  if (schema.allOf?.length)
    return hostileValid(Object.assign({}, ...schema.allOf) as JsonSchema, options, key);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const properties = schema.properties ?? {};
      const model = Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, hostileValid(property, options, name)]),
      );
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((name) => name in properties) });
    }
    case 'array': {
      const item = schema.items ?? {};
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? 8, 8));
      const lengths = fc.array(hostileValid(item, options, key), { minLength, maxLength });
      return schema.maxItems !== undefined && schema.maxItems > maxLength
        ? fc.oneof(
            { arbitrary: lengths, weight: 5 },
            {
              arbitrary: fc.array(hostileValid(item, options, key), {
                minLength: schema.maxItems,
                maxLength: schema.maxItems + 1,
              }),
              weight: 1,
            },
          )
        : lengths;
    }
    case 'string': {
      if (schema.format === 'uuid') return uuidArbitrary(knownIdsFor(options.knownIds, key));
      if (schema.pattern) {
        return fc.oneof(
          { arbitrary: fc.stringMatching(new RegExp(schema.pattern)), weight: 3 },
          { arbitrary: hostileString, weight: 1 },
        );
      }
      const min = schema.minLength ?? 0;
      const max = schema.maxLength ?? 100_000;
      const text = fc.oneof(
        { arbitrary: hostileStringWithin(min, max), weight: 6 },
        { arbitrary: hostileString, weight: 1 },
        {
          arbitrary: fc.constantFrom(
            'x'.repeat(max),
            'x'.repeat(Math.min(max + 1, 1_000_001)),
            'é'.repeat(max),
          ),
          weight: 1,
        },
      );
      return /email/i.test(key)
        ? fc.oneof({ arbitrary: hostileEmail, weight: 3 }, { arbitrary: text, weight: 1 })
        : text;
    }
    case 'integer':
      return hostileNumber(schema, true);
    case 'number':
      return hostileNumber(schema, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/** A JSON value `depth` levels deep: `[[[…]]]` or `{"a":{"a":…}}`. */
function nested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = kind === 'array' ? [value] : { a: value };
  return value;
}

/** Values of the wrong type, whatever the field expects. */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, '', 'x', [], {}, [null], { '': null }),
  fc.integer(),
  hostileString,
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(16, 150, 600).map((depth) => nested(depth, 'array')),
  fc.constantFrom(16, 150, 600).map((depth) => nested(depth, 'object')),
);

/** A whole input of the wrong kind. */
const wrongRoot: fc.Arbitrary<unknown> = fc.oneof(
  wrongType,
  fc.dictionary(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 20 }),
  fc.constant(Object.fromEntries(Array.from({ length: 5_000 }, (_, index) => [`k${index}`, index]))),
  fc.constant(
    JSON.parse('{"__proto__":{"isAdmin":true,"roles":["admin"]},"constructor":{"prototype":{"x":1}}}'),
  ),
  fc.constantFrom(1_000, 30_000).map((length) => Array.from({ length }, () => 0)),
);

type Path = (string | number)[];

/** Every place in a value where a mutation can land: the value itself and each nested container member. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix];
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) paths.push(...pathsOf(item, [...prefix, index]));
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  }
  return paths;
}

function replaceAt(value: unknown, path: Path, replace: (current: unknown) => unknown): unknown {
  if (path.length === 0) return replace(value);
  const [head, ...rest] = path;
  if (Array.isArray(value))
    return value.map((item, index) => (index === head ? replaceAt(item, rest, replace) : item));
  const copy = { ...(value as Record<string, unknown>) };
  copy[head as string] = replaceAt(copy[head as string], rest, replace);
  return copy;
}

type Mutation = {
  kind: 'wrong type' | 'extra key' | 'missing key' | 'wrong root';
  at: string;
  input: unknown;
};

/**
 * Inputs just outside the schema: a valid-shaped input with one place broken (a wrong type, an
 * extra key, a missing key), or a whole input of the wrong kind (deep nesting, thousands of keys,
 * huge arrays, `__proto__` keys).
 */
export function outOfSchema(schema: JsonSchema, options: ArbitraryOptions): fc.Arbitrary<Mutation> {
  const mutated = hostileValid(schema, options).chain((valid) => {
    const paths = pathsOf(valid);
    return fc
      .tuple(
        fc.constantFrom(...paths),
        fc.constantFrom('wrong type', 'extra key', 'missing key'),
        wrongType,
        fc.string({ minLength: 1, maxLength: 12 }),
      )
      .map(([path, kind, replacement, extraKey]): Mutation => {
        const at = path.join('.') || '(root)';
        if (kind === 'wrong type') return { kind, at, input: replaceAt(valid, path, () => replacement) };
        if (kind === 'extra key') {
          return {
            kind,
            at,
            input: replaceAt(valid, path, (current) =>
              current && typeof current === 'object' && !Array.isArray(current)
                ? { ...current, [extraKey]: replacement }
                : { [extraKey]: current },
            ),
          };
        }
        const parent = path.slice(0, -1);
        const last = path.at(-1);
        return {
          kind,
          at,
          input:
            last === undefined
              ? undefined
              : replaceAt(valid, parent, (current) => {
                  if (Array.isArray(current)) return current.filter((_, index) => index !== last);
                  const { [last as string]: _removed, ...rest } = current as Record<string, unknown>;
                  return rest;
                }),
        };
      });
  });
  return fc.oneof(
    { arbitrary: mutated, weight: 3 },
    {
      arbitrary: wrongRoot.map((input): Mutation => ({ kind: 'wrong root', at: '(root)', input })),
      weight: 1,
    },
  );
}

/** The JSON Schema of what a caller may send to a procedure (its input parsers merged). */
export function inputJsonSchema(inputs: readonly ZodType[]): JsonSchema {
  const schemas = inputs.map(
    (input) => z.toJSONSchema(input, { io: 'input', unrepresentable: 'any' }) as unknown as JsonSchema,
  );
  if (schemas.length === 0) return {};
  if (schemas.length === 1) return schemas[0]!;
  return {
    type: 'object',
    properties: Object.assign({}, ...schemas.map((schema) => schema.properties ?? {})),
    required: schemas.flatMap((schema) => schema.required ?? []),
  };
}

/** Text that is not JSON, for bodies and `input` parameters. */
export const malformedJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{',
    '}',
    '{"a":',
    '[1,2',
    '{"a":1,}',
    "{'a':1}",
    'undefined',
    'NaN',
    '{"a":01}',
    '\u0000',
    '{"a":"\\x"}',
    '{"a":"\ud800"',
    '\ufeff{}x',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }).filter((text) => {
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  }),
);

/** `encodeURIComponent`, with lone surrogates (which it refuses) replaced by U+FFFD first. */
export function encodeText(text: string): string {
  return encodeURIComponent(
    text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );
}
