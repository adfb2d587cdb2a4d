import { defineConfig } from 'vitest/config';

/**
 * The integration suite runs a second time with tRPC's stock adapter in every service
 * (`TRPC_ADAPTER=stock`, in-process services and spawned ones alike), so that both adapters pass the
 * same suite. Left to the lean adapter alone: files that call no service over HTTP (deployment
 * manifests, the orders benchmark's smoke run, the gateway's parsing helpers) and the two that hold
 * machine-wide resources for minutes (chaos.test.ts restarts its own Redis and PostgreSQL
 * connections; platform-runner.test.ts rebuilds the shared dist/ and runs npm start), which must not
 * run twice at once.
 */
const LEAN_ONLY_FILES = [
  'apps/services/test/deployment.test.ts',
  'apps/services/test/bench-smoke.test.ts',
  'apps/services/test/gateway-parsing.test.ts',
  'apps/services/test/chaos/**',
  'apps/services/test/platform-runner.test.ts',
];

export default defineConfig({
  resolve: { conditions: ['bindery-source'] },
  ssr: { resolve: { conditions: ['bindery-source'] } },
  test: {
    env: { LOG_LEVEL: 'silent' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'bindery', include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'stock-trpc-adapter',
          include: ['apps/services/test/**/*.test.ts'],
          exclude: LEAN_ONLY_FILES,
          env: { LOG_LEVEL: 'silent', TRPC_ADAPTER: 'stock' },
        },
      },
    ],
  },
});
