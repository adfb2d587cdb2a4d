// Bundles each process entry (src/bin/*.ts) with the workspace packages it uses into dist/bin,
// leaving npm dependencies external, and copies the committed migrations beside them. Code behind a
// dynamic import (each service's starter in src/processes.ts) goes into chunks of its own beside the
// entries, so a process loads only the service it runs.
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: readdirSync('src/bin').map((file) => `src/bin/${file}`),
  outdir: 'dist/bin',
  bundle: true,
  platform: 'node',
  format: 'esm',
  splitting: true,
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'external-npm-packages',
      setup(builder) {
        // Workspace packages export TypeScript source and are bundled; everything else is installed.
        builder.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@bindery/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
cpSync('../../packages/db/migrations', 'dist/migrations', { recursive: true });
