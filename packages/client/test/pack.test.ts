import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestPlatform, type TestPlatform } from '@bindery/services/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';

/**
 * The requirement: an app outside this repository that installs the packed tarball
 * (`npm pack`) gets full types without the monorepo, and works against a running gateway.
 */

const clientRoot = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(clientRoot, '../..');
const npmCli = join(dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js');

/** Versions the scratch app installs besides the tarball; tRPC's declarations need the @types. */
const scratchDevDependencies = ['typescript@5.9.3', '@types/node@20.19.43', '@types/ws@8.18.1'];

const newBook = { title: 'The Left Hand of Darkness', author: 'Ursula K. Le Guin', priceCents: 1299 };

const goodSource = `import { fileURLToPath } from 'node:url';
import { createBinderyClient, isBinderyError, type RouterInputs, type RouterOutputs } from '@bindery/client';

const url = process.env.BINDERY_URL ?? 'http://localhost:4000';
const signIn = { email: process.env.BINDERY_EMAIL ?? '', password: process.env.BINDERY_PASSWORD ?? '' };
const { accessToken } = await createBinderyClient({ url }).auth.login.mutate(signIn);
const client = createBinderyClient({ url, token: accessToken });

const input: RouterInputs['catalog']['books']['create'] = ${JSON.stringify(newBook)};
const created = await client.catalog.books.create.mutate(input);
const read: RouterOutputs['catalog']['books']['byId'] = await client.catalog.books.byId.query({ id: created.id });
const title: string = read.title;
// @ts-expect-error a title is a string: the output is typed, not any
const titleAsNumber: number = read.title;

let missingCode: string | undefined;
try {
  await client.catalog.books.byId.query({ id: '00000000-0000-4000-8000-000000000000' });
} catch (error) {
  if (!isBinderyError(error)) throw error;
  missingCode = error.data?.code;
}

/** Never called: it only holds what the compiler must reject. */
export function typeChecksOnly() {
  // @ts-expect-error priceCents is a number of cents
  return client.catalog.books.create.mutate({ ...input, priceCents: 'free' });
}

const resolvedFrom = fileURLToPath(import.meta.resolve('@bindery/client'));
console.log(JSON.stringify({ created, read, title, missingCode, resolvedFrom }));
`;

const badSource = `import { createBinderyClient } from '@bindery/client';

const client = createBinderyClient({ url: 'http://localhost:4000' });
export const books = await client.catalog.bookz.list.query();
`;

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Node script with this repository's node; resolves with its exit code and output. */
function runNode(args: string[], options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }) {
  return new Promise<RunResult>((resolve) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? outsideRepoEnv(),
        timeout: options.timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** As `runNode`, but a failure throws with the command's output. */
async function mustRunNode(args: string[], options: { cwd: string; timeoutMs: number }) {
  const result = await runNode(args, options);
  if (result.code !== 0) {
    throw new Error(`node ${args.join(' ')} exited with ${result.code}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/**
 * The environment without what npx or pnpm export to their children, such as
 * `npm_config_local_prefix` naming this repository, while keeping where the registry, the cache and
 * the certificates are.
 */
function outsideRepoEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const kept = new Set([
    'npm_config_registry',
    'npm_config_cache',
    'npm_config_userconfig',
    'npm_config_cafile',
  ]);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^p?npm_/i.test(name) || kept.has(name.toLowerCase())),
  );
  return { ...env, ...extra };
}

function writeJson(path: string, value: unknown) {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function tsc(args: string[]) {
  return runNode([join(scratchDir, 'node_modules/typescript/bin/tsc'), ...args], {
    cwd: scratchDir,
    timeoutMs: 90_000,
  });
}

let workDir: string;
let scratchDir: string;
let packedFiles: string[];
let platform: TestPlatform | undefined;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'bindery-client-pack-'));
  scratchDir = join(workDir, 'app');

  await mustRunNode([join(clientRoot, 'build.mjs')], { cwd: clientRoot, timeoutMs: 90_000 });
  const packOutput = await mustRunNode([npmCli, 'pack', '--json', '--pack-destination', workDir], {
    cwd: clientRoot,
    timeoutMs: 60_000,
  });
  const [packed] = JSON.parse(packOutput) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed!.files.map((file) => file.path).sort();

  mkdirSync(scratchDir);
  writeJson(join(scratchDir, 'package.json'), {
    name: 'bindery-client-consumer',
    private: true,
    type: 'module',
  });
  await mustRunNode(
    [
      npmCli,
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--save-exact',
      join(workDir, packed!.filename),
      ...scratchDevDependencies,
    ],
    { cwd: scratchDir, timeoutMs: 150_000 },
  );

  writeJson(join(scratchDir, 'tsconfig.json'), {
    compilerOptions: {
      strict: true,
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      // @trpc/server 11.22.1's ws adapter declarations read `ws.WebSocket` off the default import,
      // which only @types/ws's CommonJS entry has (see README.md).
      paths: { ws: ['./node_modules/@types/ws/index.d.ts'] },
    },
    files: ['good.ts'],
  });
  writeJson(join(scratchDir, 'tsconfig.bad.json'), { extends: './tsconfig.json', files: ['bad.ts'] });
  writeJson(join(scratchDir, 'tsconfig.build.json'), {
    extends: './tsconfig.json',
    compilerOptions: { noEmit: false, outDir: 'out' },
  });
  writeFileSync(join(scratchDir, 'good.ts'), goodSource);
  writeFileSync(join(scratchDir, 'bad.ts'), badSource);

  platform = await startTestPlatform();
}, 180_000);

afterAll(async () => {
  await platform?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('the tarball holds the built client and its manifest, no sources or tests', () => {
  expect(packedFiles).toEqual([
    'README.md',
    'dist/app-router.d.ts',
    'dist/index.d.ts',
    'dist/index.js',
    'dist/shape.d.ts',
    'package.json',
  ]);
});

test('the scratch app lives outside the repository', () => {
  expect(relative(repoRoot, scratchDir)).toMatch(/^\.\.\//);
  expect(existsSync(join(scratchDir, 'node_modules/@bindery/client/dist/app-router.d.ts'))).toBe(true);
});

test('an app type-checks against the installed package with skipLibCheck off', async () => {
  const result = await tsc(['-p', '.']);
  expect(`${result.stdout}${result.stderr}`).not.toMatch(/Cannot find module/);
  expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
});

test('the compiler rejects a misspelled procedure', async () => {
  const result = await tsc(['--noEmit', '-p', 'tsconfig.bad.json']);
  expect(result.code).not.toBe(0);
  expect(result.stdout).toContain('bookz');
  expect(result.stdout.trim().split('\n')).toEqual([
    expect.stringMatching(
      /^bad\.ts\(4,\d+\): error TS2551: Property 'bookz' does not exist .* Did you mean 'books'\?$/,
    ),
  ]);
});

test('the compiled app signs in, creates a book and reads it back through the gateway', async () => {
  const build = await tsc(['-p', 'tsconfig.build.json']);
  expect(build).toEqual({ code: 0, stdout: '', stderr: '' });

  const run = await runNode([join(scratchDir, 'out/good.js')], {
    cwd: scratchDir,
    timeoutMs: 30_000,
    env: outsideRepoEnv({
      BINDERY_URL: platform!.gatewayUrl,
      BINDERY_EMAIL: platform!.admin.email,
      BINDERY_PASSWORD: platform!.admin.password,
    }),
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const printed = JSON.parse(run.stdout);

  expect(printed.created).toMatchObject({ ...newBook, isbn: null, stock: 0, id: expect.any(String) });
  expect(printed.read).toEqual(printed.created);
  expect(printed.title).toBe(newBook.title);
  expect(printed.missingCode).toBe('NOT_FOUND');
  expect(printed.resolvedFrom).toBe(
    join(realpathSync(scratchDir), 'node_modules/@bindery/client/dist/index.js'),
  );

  const { client } = await platform!.signIn(platform!.admin.email, platform!.admin.password);
  expect(await client.catalog.books.byId.query({ id: printed.created.id })).toEqual(printed.created);
});

test('the installed client pulls in tRPC and no server packages', () => {
  const lock = JSON.parse(readFileSync(join(scratchDir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dependencies?: Record<string, string> }>;
  };
  const installed = Object.keys(lock.packages)
    .filter((path) => path !== '')
    .map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
  for (const serverPackage of ['drizzle-orm', 'pino', 'ioredis', 'postgres']) {
    expect(installed).not.toContain(serverPackage);
  }
  expect(lock.packages['node_modules/@bindery/client']?.dependencies).toEqual({
    '@trpc/client': '11.22.1',
    '@trpc/server': '11.22.1',
  });

  const declarations = ['index.d.ts', 'shape.d.ts', 'app-router.d.ts'].map((file) =>
    readFileSync(join(scratchDir, 'node_modules/@bindery/client/dist', file), 'utf8'),
  );
  const imported = new Set(
    declarations.flatMap((source) =>
      [...source.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)].map((match) => match[1]!),
    ),
  );
  expect([...imported].filter((specifier) => !specifier.startsWith('.')).sort()).toEqual([
    '@trpc/client',
    '@trpc/server',
  ]);
});
