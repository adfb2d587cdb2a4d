import { passwordSchema, ROLES } from '@bindery/api/shared';
import { z } from 'zod';

export const email = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be an email address'));

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const roles = z
  .array(z.enum(ROLES))
  .min(1, 'must hold at least one role')
  .max(ROLES.length)
  .transform((list) => [...new Set(list)]);
const userId = z.uuid('must be a user id');

export const userIdInput = z.strictObject({ id: userId });

export const createUserInput = z.strictObject({
  email,
  name,
  roles: roles.default(['customer']),
  /** When given, the user can sign in with it; stored by the auth service, never here. */
  password: passwordSchema.optional(),
});

export const updateUserInput = z.strictObject({
  id: userId,
  email: email.optional(),
  name: name.optional(),
  roles: roles.optional(),
});

export const listUsersInput = z
  .strictObject({
    search: z.string().trim().max(200).optional(),
    role: z.enum(ROLES).optional(),
    status: z.enum(['active', 'disabled']).optional(),
    cursor: z.string().max(500).optional(),
    limit: z.int().min(1).max(100).default(20),
  })
  .default({ limit: 20 });

export const userOutput = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  roles: z.array(z.enum(ROLES)),
  status: z.enum(['active', 'disabled']),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type User = z.infer<typeof userOutput>;
