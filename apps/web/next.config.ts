import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The services' `users` and `auth` schemas import `@bindery/api`, whose index also exports its
 * server half (tokens, metrics, logging). The console needs only the browser-safe part, so every
 * import of it resolves to `src/lib/bindery-api.ts`: the forms validate with the services' own
 * schemas without bundling prom-client or pino.
 */
const binderyApiForTheConsole = './src/lib/bindery-api.ts';

const nextConfig: NextConfig = {
  output: 'standalone',
  outputFileTracingRoot: repositoryRoot,
  turbopack: {
    root: repositoryRoot,
    resolveAlias: { '@bindery/api': binderyApiForTheConsole },
  },
  transpilePackages: ['@bindery/services'],
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
