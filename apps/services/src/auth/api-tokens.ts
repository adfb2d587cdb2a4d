import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { notFound } from '@bindery/api';
import { auth, type Database } from '@bindery/db';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';

type AuthDb = Database<typeof auth>;
type TokenRow = typeof auth.apiTokens.$inferSelect;

/** API tokens read `bnd_<token id, base64url>_<secret, base64url>`; the prefix makes leaks greppable. */
const TOKEN_PATTERN = /^bnd_([A-Za-z0-9_-]{22})_([A-Za-z0-9_-]{43})$/;

export function isApiToken(token: string): boolean {
  return token.startsWith('bnd_');
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface ApiTokenInfo {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

function toInfo(row: TokenRow): ApiTokenInfo {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

/** Creates a token; its secret is in the result only, never stored (a SHA-256 digest is). */
export async function createApiToken(
  db: AuthDb,
  options: { userId: string; name: string; expiresInDays?: number | undefined },
): Promise<ApiTokenInfo & { token: string }> {
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = options.expiresInDays ? new Date(Date.now() + options.expiresInDays * 86_400_000) : null;
  const [row] = await db
    .insert(auth.apiTokens)
    .values({ userId: options.userId, name: options.name, secretHash: digest(secret), expiresAt })
    .returning();
  const id = Buffer.from(row!.id.replaceAll('-', ''), 'hex').toString('base64url');
  return { ...toInfo(row!), token: `bnd_${id}_${secret}` };
}

export async function listApiTokens(db: AuthDb, userId: string): Promise<ApiTokenInfo[]> {
  const rows = await db
    .select()
    .from(auth.apiTokens)
    .where(eq(auth.apiTokens.userId, userId))
    .orderBy(desc(auth.apiTokens.createdAt));
  return rows.map(toInfo);
}

export async function revokeApiToken(
  db: AuthDb,
  options: { id: string; userId: string | null },
): Promise<ApiTokenInfo> {
  const owner = options.userId ? eq(auth.apiTokens.userId, options.userId) : undefined;
  const [row] = await db
    .update(auth.apiTokens)
    .set({ revokedAt: sql`coalesce(${auth.apiTokens.revokedAt}, now())` })
    .where(and(eq(auth.apiTokens.id, options.id), owner))
    .returning();
  if (!row) throw notFound(`API token ${options.id}`);
  return toInfo(row);
}

/** The token's id and owner when it is genuine, unrevoked and unexpired; null otherwise. */
export async function resolveApiToken(
  db: AuthDb,
  token: string,
): Promise<{ tokenId: string; userId: string } | null> {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const hex = Buffer.from(match[1]!, 'base64url').toString('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const [row] = await db
    .update(auth.apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(auth.apiTokens.id, id),
        isNull(auth.apiTokens.revokedAt),
        sql`(${auth.apiTokens.expiresAt} is null or ${auth.apiTokens.expiresAt} > now())`,
      ),
    )
    .returning();
  if (!row) return null;
  const expected = Buffer.from(row.secretHash, 'hex');
  const actual = Buffer.from(digest(match[2]!), 'hex');
  return timingSafeEqual(expected, actual) ? { tokenId: row.id, userId: row.userId } : null;
}
