import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { ConfigError } from './env';

/**
 * The key material of a Bindery deployment:
 * - `internalTokenSecret` signs the short-lived tokens between processes (HS256, shared by all);
 * - the auth key pair signs users' access tokens (EdDSA): auth holds the private key, the gateway
 *   verifies with the public one.
 */
export interface Keys {
  internalTokenSecret: Uint8Array;
  accessTokenPrivateKeyPem: string;
  accessTokenPublicKeyPem: string;
}

/**
 * Keys come from the environment (`INTERNAL_TOKEN_SECRET`, base64, at least 32 bytes;
 * `AUTH_PRIVATE_KEY` / `AUTH_PUBLIC_KEY`, PEM). In development, missing ones are generated once under
 * `<dataDir>/keys` and reused by every process; with NODE_ENV=production a missing key is fatal.
 */
export async function loadKeys(options: { dataDir: string; env?: NodeJS.ProcessEnv }): Promise<Keys> {
  const env = options.env ?? process.env;
  const production = env.NODE_ENV === 'production';
  const missing = ['INTERNAL_TOKEN_SECRET', 'AUTH_PRIVATE_KEY', 'AUTH_PUBLIC_KEY'].filter(
    (name) => !env[name],
  );
  if (production && missing.length > 0) {
    throw new ConfigError(
      `NODE_ENV=production needs real keys; missing ${missing.join(', ')}. Generate them with \`node scripts/generate-keys.mjs\`.`,
    );
  }
  const dir = join(options.dataDir, 'keys');
  const internal =
    env.INTERNAL_TOKEN_SECRET ??
    readOrCreate(dir, 'internal-token.secret', () => randomBytes(48).toString('base64'));
  const internalTokenSecret = Buffer.from(internal, 'base64');
  if (internalTokenSecret.length < 32)
    throw new ConfigError('INTERNAL_TOKEN_SECRET: must be base64 of at least 32 bytes');

  let accessTokenPrivateKeyPem = env.AUTH_PRIVATE_KEY;
  let accessTokenPublicKeyPem = env.AUTH_PUBLIC_KEY;
  if (!accessTokenPrivateKeyPem || !accessTokenPublicKeyPem) {
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    const [privatePem, publicPem] = [await exportPKCS8(pair.privateKey), await exportSPKI(pair.publicKey)];
    // Both halves live in one file so that two processes racing on first start agree on one pair.
    const stored = JSON.parse(
      readOrCreate(dir, 'access-token.keypair.json', () => JSON.stringify({ privatePem, publicPem })),
    ) as { privatePem: string; publicPem: string };
    accessTokenPrivateKeyPem = stored.privatePem;
    accessTokenPublicKeyPem = stored.publicPem;
  }
  return { internalTokenSecret, accessTokenPrivateKeyPem, accessTokenPublicKeyPem };
}

/** Reads `dir/name`, creating it first when absent; the first writer wins a race (link is atomic). */
function readOrCreate(dir: string, name: string, create: () => string): string {
  const path = join(dir, name);
  try {
    return readFileSync(path, 'utf8');
  } catch {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(temporary, create(), { mode: 0o600 });
    try {
      linkSync(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temporary, { force: true });
    }
    return readFileSync(path, 'utf8');
  }
}
