import { z } from 'zod';

/** The password policy: checked by users (before creating an account) and by auth (before storing). */
export const passwordSchema = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(256, 'must be at most 256 characters')
  .refine((value) => value.trim().length >= Math.min(12, value.length), 'must not be mostly spaces');
