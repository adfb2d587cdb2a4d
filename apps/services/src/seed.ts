import { randomBytes } from 'node:crypto';
import { setPassword } from './auth/passwords';
import { countBooks, createBook } from './catalog/books';
import type { ServiceConfig } from './config';
import { openServiceDatabase } from './database';
import { findUserByEmail, insertUser } from './users/accounts';

export const SAMPLE_BOOKS = [
  {
    title: 'The Left Hand of Darkness',
    author: 'Ursula K. Le Guin',
    isbn: '9780441478125',
    priceCents: 1599,
    stock: 12,
  },
  { title: 'Invisible Cities', author: 'Italo Calvino', isbn: '9780156453806', priceCents: 1450, stock: 7 },
  { title: 'Beloved', author: 'Toni Morrison', isbn: '9781400033416', priceCents: 1700, stock: 9 },
  {
    title: 'The Master and Margarita',
    author: 'Mikhail Bulgakov',
    isbn: '9780141180144',
    priceCents: 1299,
    stock: 5,
  },
  { title: 'Pedro Páramo', author: 'Juan Rulfo', isbn: '9780802133908', priceCents: 1400, stock: 4 },
  { title: 'Kindred', author: 'Octavia E. Butler', isbn: '9780807083697', priceCents: 1650, stock: 11 },
];

export interface SeedResult {
  adminEmail: string;
  /** Set only when this run created the admin with a generated password: print it once. */
  generatedPassword: string | null;
  adminCreated: boolean;
  booksCreated: number;
}

/**
 * Seeds a new deployment, and does nothing on one already seeded: the first admin (from
 * BINDERY_ADMIN_EMAIL / BINDERY_ADMIN_PASSWORD, else a generated password) and a few sample books.
 * It writes through each service's own data functions, as a migration would.
 */
export async function seed(
  config: ServiceConfig,
  admin: { email: string; password?: string | undefined },
  options: { sampleBooks?: boolean } = {},
): Promise<SeedResult> {
  const usersDb = await openServiceDatabase(config, 'users');
  const authDb = await openServiceDatabase(config, 'auth');
  const catalogDb = await openServiceDatabase(config, 'catalog');
  try {
    let generatedPassword: string | null = null;
    let adminCreated = false;
    if (!(await findUserByEmail(usersDb.db, admin.email))) {
      const password = admin.password ?? randomBytes(12).toString('base64url');
      if (!admin.password) generatedPassword = password;
      const user = await insertUser(usersDb.db, {
        email: admin.email,
        name: 'Administrator',
        roles: ['admin'],
      });
      await setPassword(authDb.db, user.id, password);
      adminCreated = true;
    }
    let booksCreated = 0;
    if ((options.sampleBooks ?? true) && (await countBooks(catalogDb.db)) === 0) {
      for (const book of SAMPLE_BOOKS) await createBook(catalogDb.db, book);
      booksCreated = SAMPLE_BOOKS.length;
    }
    return { adminEmail: admin.email, generatedPassword, adminCreated, booksCreated };
  } finally {
    await Promise.all([usersDb.close(), authDb.close(), catalogDb.close()]);
  }
}
