import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['bindery-source'] },
  ssr: { resolve: { conditions: ['bindery-source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    env: { LOG_LEVEL: 'silent' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
