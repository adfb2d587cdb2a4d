#!/usr/bin/env node
// Prints, as one kubectl List, the namespace and the Secrets that Bindery's Kubernetes manifests
// reference but never contain: fresh keys (scripts/generate-keys.mjs), the console's session secret
// and, given --database-url and --redis-url, the datastores of the prod overlay.
//
//   node docker/k8s/secrets.mjs bindery-dev | kubectl create -f -
//   node docker/k8s/secrets.mjs bindery --database-url "$DATABASE_URL" --redis-url "$REDIS_URL" \
//     | kubectl create -f -
//
// Use `kubectl create`, not apply: it refuses to replace existing keys, and new keys would sign
// every user out. Rotate keys on purpose with `kubectl delete secret bindery-keys` first.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
  },
});
const namespace = positionals[0];
if (!namespace || positionals.length > 1) {
  console.error('usage: node docker/k8s/secrets.mjs <namespace> [--database-url URL --redis-url URL]');
  process.exit(64);
}
if (Boolean(values['database-url']) !== Boolean(values['redis-url'])) {
  console.error('secrets.mjs: give both --database-url and --redis-url, or neither');
  process.exit(64);
}

/** The variables scripts/generate-keys.mjs prints, as NAME=value or NAME="multi-line value". */
function generateKeys() {
  const script = fileURLToPath(new URL('../../scripts/generate-keys.mjs', import.meta.url));
  const output = execFileSync(process.execPath, [script], { encoding: 'utf8' });
  const keys = {};
  for (const match of output.matchAll(/^(\w+)=(?:"([^"]*)"|(.*))$/gm)) {
    keys[match[1]] = match[2] ?? match[3];
  }
  return keys;
}

const labels = { 'app.kubernetes.io/part-of': 'bindery' };
const secret = (name, stringData) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace, labels },
  type: 'Opaque',
  stringData,
});

const items = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
  secret('bindery-keys', generateKeys()),
  secret('bindery-console', { AUTH_SECRET: randomBytes(32).toString('base64') }),
];
if (values['database-url']) {
  items.push(
    secret('bindery-datastores', { DATABASE_URL: values['database-url'], REDIS_URL: values['redis-url'] }),
  );
}
console.log(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2));
