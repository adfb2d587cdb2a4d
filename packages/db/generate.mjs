// Generates the committed SQL migrations of every service from its drizzle tables.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const services = readdirSync(new URL('./src/schema', import.meta.url))
  .filter((file) => file.endsWith('.ts') && !['index.ts', 'events.ts'].includes(file))
  .map((file) => file.replace(/\.ts$/, ''));
for (const service of services) {
  const { status } = spawnSync('drizzle-kit', ['generate', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, BINDERY_SCHEMA: service },
  });
  if (status !== 0) process.exit(status ?? 1);
}
