// Builds the publishable client into dist/:
// - index.js: the client factory, bundled with esbuild (@trpc/client stays a dependency);
// - index.d.ts, shape.d.ts: declarations of src/, emitted by the TypeScript compiler;
// - app-router.d.ts: the AppRouter type, rebuilt from the router's shape printed out in full.
//   Printing the shape, rather than bundling the services' declarations, keeps server types
//   (drizzle, pino, ioredis, …) out of the package: an app needs only @trpc/client and @trpc/server.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

await build({
  entryPoints: [join(root, 'src/index.ts')],
  outfile: join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: ['@trpc/*'],
  conditions: ['bindery-source'],
  logLevel: 'warning',
});

const entry = join(root, 'src/__shape_entry.ts');
const entrySource = `import type { AppRouter } from './app-router.js';
import type { ShapeOf } from './shape.js';
export type ApiShape = ShapeOf<AppRouter>;
export type ApiRoot = AppRouter['_def']['_config']['$types'];
`;
const config = ts.getParsedCommandLineOfConfigFile(
  join(root, '../../tsconfig.base.json'),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
);
const options = {
  ...config.options,
  noEmit: false,
  declaration: true,
  emitDeclarationOnly: true,
  rootDir: join(root, 'src'),
  outDir: dist,
};
const host = ts.createCompilerHost(options);
const getSourceFile = host.getSourceFile;
host.getSourceFile = (fileName, language, ...rest) =>
  resolve(fileName) === entry
    ? ts.createSourceFile(fileName, entrySource, language)
    : getSourceFile(fileName, language, ...rest);
const fileExists = host.fileExists;
host.fileExists = (fileName) => resolve(fileName) === entry || fileExists(fileName);

const program = ts.createProgram(
  [join(root, 'src/index.ts'), join(root, 'src/shape.ts'), entry],
  options,
  host,
);
const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length > 0) {
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}
for (const file of ['index.ts', 'shape.ts']) {
  const result = program.emit(program.getSourceFile(join(root, 'src', file)), undefined, undefined, true);
  if (result.emitSkipped) throw new Error(`Could not emit declarations of src/${file}`);
}

const checker = program.getTypeChecker();
const entryFile = program.getSourceFile(entry);
const aliasType = (name) => {
  const statement = entryFile.statements.find(
    (node) => ts.isTypeAliasDeclaration(node) && node.name.text === name,
  );
  return checker.getTypeAtLocation(statement.name);
};

/** Prints a type structurally, so the output names no type from the server's packages. */
function print(type, depth = 0, stack = new Set()) {
  if (depth > 40) throw new Error('The router shape nests deeper than 40 levels');
  const flags = type.flags;
  const simple =
    ts.TypeFlags.Any |
    ts.TypeFlags.Unknown |
    ts.TypeFlags.String |
    ts.TypeFlags.Number |
    ts.TypeFlags.Boolean |
    ts.TypeFlags.BigInt |
    ts.TypeFlags.Null |
    ts.TypeFlags.Undefined |
    ts.TypeFlags.Void |
    ts.TypeFlags.Never |
    ts.TypeFlags.StringLiteral |
    ts.TypeFlags.NumberLiteral |
    ts.TypeFlags.BooleanLiteral |
    ts.TypeFlags.BigIntLiteral;
  if (flags & simple) return checker.typeToString(type);
  if (type.isUnion()) {
    const members = type.types.map((member) => print(member, depth + 1, stack));
    const hasBoolean = members.includes('true') && members.includes('false');
    const rest = members.filter((member) => !hasBoolean || (member !== 'true' && member !== 'false'));
    return [...rest, ...(hasBoolean ? ['boolean'] : [])].join(' | ');
  }
  if (type.isIntersection())
    return type.types.map((member) => `(${print(member, depth + 1, stack)})`).join(' & ');
  if (checker.isTupleType(type)) {
    return `[${checker
      .getTypeArguments(type)
      .map((element) => print(element, depth + 1, stack))
      .join(', ')}]`;
  }
  if (checker.isArrayType(type)) return `(${print(checker.getTypeArguments(type)[0], depth + 1, stack)})[]`;
  if (flags & ts.TypeFlags.Object) {
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) {
      throw new Error(`A procedure's input or output holds a function type: ${checker.typeToString(type)}`);
    }
    if (stack.has(type)) throw new Error(`Recursive type in the router shape: ${checker.typeToString(type)}`);
    stack.add(type);
    const members = [];
    for (const info of checker.getIndexInfosOfType(type)) {
      members.push(`[key: ${checker.typeToString(info.keyType)}]: ${print(info.type, depth + 1, stack)};`);
    }
    for (const property of checker.getPropertiesOfType(type)) {
      const optional = property.flags & ts.SymbolFlags.Optional ? '?' : '';
      const name = /^[A-Za-z_$][\w$]*$/.test(property.name) ? property.name : JSON.stringify(property.name);
      members.push(`${name}${optional}: ${print(checker.getTypeOfSymbol(property), depth + 1, stack)};`);
    }
    stack.delete(type);
    return members.length === 0 ? '{}' : `{ ${members.join(' ')} }`;
  }
  throw new Error(`Cannot print type ${checker.typeToString(type)}`);
}

const root$ = aliasType('ApiRoot');
const member = (name) => checker.getTypeOfSymbol(root$.getProperty(name));
writeFileSync(
  join(dist, 'app-router.d.ts'),
  `// Generated by build.mjs from the services' routers. Do not edit.
import type { RouterFromShape } from './shape.js';

/** Every procedure of the Bindery API: its kind, its input and its output. */
export type ApiShape = ${print(aliasType('ApiShape'))};

/** What a procedure may declare: who may call it, whether it is idempotent, its timeout. */
export type ProcedureMeta = ${print(member('meta'))};

/** The shape of every error the API returns. */
export type ErrorShape = ${print(member('errorShape'))};

/** The type of the whole Bindery API, for \`@trpc/client\`. */
export type AppRouter = RouterFromShape<ApiShape, { ctx: object; meta: ProcedureMeta; errorShape: ErrorShape; transformer: false }>;
`,
);
