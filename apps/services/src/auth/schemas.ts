import { passwordSchema } from '@bindery/api/shared';
import { z } from 'zod';

export const loginInput = z.strictObject({
  email: z.string().trim().min(1, 'must not be empty').max(254),
  password: z.string().min(1, 'must not be empty').max(256),
});

export const setCredentialInput = z.strictObject({ userId: z.uuid(), password: passwordSchema });

export const createApiTokenInput = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  /** Days until the token stops working; omit for a token that lasts until revoked. */
  expiresInDays: z.int().min(1).max(3650).optional(),
});

export const apiTokenIdInput = z.strictObject({ id: z.uuid('must be a token id') });

export const resolveApiTokenInput = z.strictObject({ token: z.string().max(200) });
