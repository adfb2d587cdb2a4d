import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessTokenSigner, createAccessTokenVerifier } from '@bindery/api';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../src/env';
import { type Keys, loadKeys } from '../src/keys';

const dirs: string[] = [];
function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bindery-keys-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function configErrorOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError, but loading passed');
}

/** Whether the PEMs are two halves of one pair: a token the private key signs, the public key verifies. */
async function pairMatches(keys: Keys): Promise<boolean> {
  const sign = await createAccessTokenSigner(keys.accessTokenPrivateKeyPem);
  const verify = await createAccessTokenVerifier(keys.accessTokenPublicKeyPem);
  const { token } = await sign({ id: 'user-1', roles: ['admin'] }, 60);
  return (await verify(token))?.userId === 'user-1';
}

let envKeys: { INTERNAL_TOKEN_SECRET: string; AUTH_PRIVATE_KEY: string; AUTH_PUBLIC_KEY: string };
beforeAll(async () => {
  const pair = await generateKeyPair('EdDSA', { extractable: true });
  envKeys = {
    INTERNAL_TOKEN_SECRET: randomBytes(32).toString('base64'),
    AUTH_PRIVATE_KEY: await exportPKCS8(pair.privateKey),
    AUTH_PUBLIC_KEY: await exportSPKI(pair.publicKey),
  };
});

describe('in development, without keys in the environment', () => {
  test('generates them under <dataDir>/keys on first call, readable only by the owner', async () => {
    const dataDir = freshDataDir();
    const keys = await loadKeys({ dataDir, env: {} });
    expect(readdirSync(join(dataDir, 'keys')).sort()).toEqual([
      'access-token.keypair.json',
      'internal-token.secret',
    ]);
    expect(statSync(join(dataDir, 'keys')).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(join(dataDir, 'keys'))) {
      expect(statSync(join(dataDir, 'keys', file)).mode & 0o777).toBe(0o600);
    }
    expect(keys.internalTokenSecret).toBeInstanceOf(Uint8Array);
    expect(keys.internalTokenSecret.length).toBe(48);
    expect(keys.accessTokenPrivateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(keys.accessTokenPublicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(await pairMatches(keys)).toBe(true);
  });

  test('returns the identical keys on a second call', async () => {
    const dataDir = freshDataDir();
    const first = await loadKeys({ dataDir, env: {} });
    const second = await loadKeys({ dataDir, env: {} });
    expect(second).toEqual(first);
    expect(Buffer.from(second.internalTokenSecret).equals(Buffer.from(first.internalTokenSecret))).toBe(true);
  });

  test('five calls at once on a fresh directory agree on one set of keys and leave no temporary files', async () => {
    const dataDir = freshDataDir();
    const all = await Promise.all(Array.from({ length: 5 }, () => loadKeys({ dataDir, env: {} })));
    for (const keys of all) expect(keys).toEqual(all[0]);
    expect(await pairMatches(all[0]!)).toBe(true);
    expect(readdirSync(join(dataDir, 'keys')).sort()).toEqual([
      'access-token.keypair.json',
      'internal-token.secret',
    ]);
  });

  test('another data directory gets other keys', async () => {
    const [one, two] = await Promise.all([
      loadKeys({ dataDir: freshDataDir(), env: {} }),
      loadKeys({ dataDir: freshDataDir(), env: {} }),
    ]);
    expect(Buffer.from(one.internalTokenSecret).equals(Buffer.from(two.internalTokenSecret))).toBe(false);
    expect(one.accessTokenPublicKeyPem).not.toBe(two.accessTokenPublicKeyPem);
  });

  test('a key given in the environment is used while the missing ones are generated', async () => {
    const dataDir = freshDataDir();
    const keys = await loadKeys({ dataDir, env: { INTERNAL_TOKEN_SECRET: envKeys.INTERNAL_TOKEN_SECRET } });
    expect(Buffer.from(keys.internalTokenSecret).toString('base64')).toBe(envKeys.INTERNAL_TOKEN_SECRET);
    expect(readdirSync(join(dataDir, 'keys'))).toEqual(['access-token.keypair.json']);
  });
});

describe('keys from the environment', () => {
  test('are used as given, and nothing is written to the data directory', async () => {
    for (const NODE_ENV of ['production', 'development']) {
      const dataDir = freshDataDir();
      const keys = await loadKeys({ dataDir, env: { ...envKeys, NODE_ENV } });
      expect(keys).toEqual({
        internalTokenSecret: Buffer.from(envKeys.INTERNAL_TOKEN_SECRET, 'base64'),
        accessTokenPrivateKeyPem: envKeys.AUTH_PRIVATE_KEY,
        accessTokenPublicKeyPem: envKeys.AUTH_PUBLIC_KEY,
      });
      expect(existsSync(join(dataDir, 'keys'))).toBe(false);
    }
  });

  test('an INTERNAL_TOKEN_SECRET shorter than 32 bytes is refused', async () => {
    const short = randomBytes(31).toString('base64');
    for (const NODE_ENV of ['production', 'development']) {
      const message = await configErrorOf(() =>
        loadKeys({ dataDir: freshDataDir(), env: { ...envKeys, INTERNAL_TOKEN_SECRET: short, NODE_ENV } }),
      );
      expect(message).toMatchInlineSnapshot(`"INTERNAL_TOKEN_SECRET: must be base64 of at least 32 bytes"`);
    }
  });

  test('a secret of exactly 32 bytes is enough', async () => {
    const secret = randomBytes(32);
    const keys = await loadKeys({
      dataDir: freshDataDir(),
      env: { ...envKeys, INTERNAL_TOKEN_SECRET: secret.toString('base64') },
    });
    expect(Buffer.from(keys.internalTokenSecret).equals(secret)).toBe(true);
  });
});

describe('in production', () => {
  test('no keys at all is fatal, naming every missing variable, and nothing is generated', async () => {
    const dataDir = freshDataDir();
    const message = await configErrorOf(() => loadKeys({ dataDir, env: { NODE_ENV: 'production' } }));
    expect(message).toMatchInlineSnapshot(
      `"NODE_ENV=production needs real keys; missing INTERNAL_TOKEN_SECRET, AUTH_PRIVATE_KEY, AUTH_PUBLIC_KEY. Generate them with \`node scripts/generate-keys.mjs\`."`,
    );
    expect(existsSync(join(dataDir, 'keys'))).toBe(false);
  });

  test('names only the variables that are missing (an empty one counts as missing)', async () => {
    const message = await configErrorOf(() =>
      loadKeys({
        dataDir: freshDataDir(),
        env: {
          NODE_ENV: 'production',
          INTERNAL_TOKEN_SECRET: envKeys.INTERNAL_TOKEN_SECRET,
          AUTH_PUBLIC_KEY: '',
        },
      }),
    );
    expect(message).toContain('missing AUTH_PRIVATE_KEY, AUTH_PUBLIC_KEY.');
    expect(message).not.toContain('INTERNAL_TOKEN_SECRET');
  });

  test('keys generated earlier in development are not picked up', async () => {
    const dataDir = freshDataDir();
    await loadKeys({ dataDir, env: {} });
    await configErrorOf(() => loadKeys({ dataDir, env: { NODE_ENV: 'production' } }));
  });
});

test('the generated key pair is stored as one file, so racing processes agree on both halves', async () => {
  const dataDir = freshDataDir();
  const keys = await loadKeys({ dataDir, env: {} });
  expect(JSON.parse(readFileSync(join(dataDir, 'keys', 'access-token.keypair.json'), 'utf8'))).toEqual({
    privatePem: keys.accessTokenPrivateKeyPem,
    publicPem: keys.accessTokenPublicKeyPem,
  });
});
