#!/usr/bin/env node
// Runs the pnpm pinned in package.json's `packageManager` without corepack, whose signature
// check fails against this registry (see shared/STACK.md). npx caches it after the first run.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const { packageManager } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`Bindery needs Node.js 20 or newer; this is ${process.version}.`);
  process.exit(1);
}
const result = spawnSync('npx', ['--yes', packageManager, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, COREPACK_ENABLE_STRICT: '0', npm_config_update_notifier: 'false' },
});
process.exit(result.status ?? 1);
