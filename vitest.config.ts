import { defineConfig } from 'vitest/config';

/**
 * The integration files that run a second time with tRPC's stock adapter in every service
 * (`TRPC_ADAPTER=stock`), so that both adapters pass the same suite; the lean one runs everything.
 */
const STOCK_ADAPTER_FILES = [
  'apps/services/test/gateway.test.ts',
  'apps/services/test/catalog.test.ts',
  'apps/services/test/users.test.ts',
  'apps/services/test/auth.test.ts',
  'apps/services/test/saga.test.ts',
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
          include: STOCK_ADAPTER_FILES,
          env: { LOG_LEVEL: 'silent', TRPC_ADAPTER: 'stock' },
        },
      },
    ],
  },
});
