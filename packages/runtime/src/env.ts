import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses configuration once at start. Every problem names the variable and the rule it breaks, so
 * an operator fixes it without reading code.
 */
export function parseEnv<TShape extends z.ZodRawShape>(
  shape: TShape,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<TShape>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
}

/** An environment variable holding a TCP port; empty counts as unset (coerced, it would be port 0). */
export const port = (defaultPort: number) =>
  z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce.number().int().min(0).max(65535).default(defaultPort),
  );

/** An optional URL variable; empty counts as unset. */
export const optionalUrl = () =>
  z
    .string()
    .optional()
    .transform((value) => (value ? value : undefined))
    .pipe(z.url().optional());
