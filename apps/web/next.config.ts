import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

const nextConfig: NextConfig = {
  output: 'standalone',
  outputFileTracingRoot: repositoryRoot,
  turbopack: {
    root: repositoryRoot,
  },
  // The forms validate with the services' own schemas, which import `@bindery/api/shared` (the
  // browser-safe part of the package: roles, password policy, access rules).
  transpilePackages: ['@bindery/services', '@bindery/api'],
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
