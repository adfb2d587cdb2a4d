#!/usr/bin/env node
// The image's HEALTHCHECK: `node /app/healthcheck.mjs [url]` exits 0 when the URL answers 2xx.
// Without a URL it finds which Bindery process this container runs (from its command line) and asks
// that process's /readyz, so one HEALTHCHECK serves every entry of the image. A one-shot migration
// counts as healthy. Ports default to apps/services/src/config.ts (the deployment test checks that).
import { readdirSync, readFileSync } from 'node:fs';

/** Default ports, as in apps/services/src/config.ts; `<NAME>_PORT` overrides them as it does there. */
const DEFAULT_PORTS = {
  gateway: 4000,
  users: 4101,
  auth: 4102,
  catalog: 4103,
  orders: 4104,
  billing: 4105,
  notifications: 4106,
};

/** The command line of the Bindery process in this container (not this check's own). */
function runningProcess() {
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    if (Number(pid) === process.pid) continue;
    let args;
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const entry = args.findIndex((arg) => arg.endsWith('dist/bin/service.js'));
    if (entry >= 0) return { kind: 'service', name: args[entry + 1] ?? 'gateway' };
    if (args.some((arg) => arg.endsWith('dist/bin/migrate.js'))) return { kind: 'migrate' };
    if (args.some((arg) => arg.endsWith('apps/web/server.js'))) return { kind: 'web' };
  }
  return undefined;
}

function defaultUrl() {
  const running = runningProcess();
  if (!running) {
    console.error('healthcheck: no Bindery process found in this container');
    process.exit(1);
  }
  if (running.kind === 'migrate') process.exit(0);
  if (running.kind === 'web') return `http://127.0.0.1:${process.env.PORT || 3000}/healthz`;
  const { name } = running;
  const port = name.endsWith('-worker')
    ? process.env.WORKER_PORT || 9000
    : process.env[`${name.toUpperCase()}_PORT`] || DEFAULT_PORTS[name];
  return `http://127.0.0.1:${port}/readyz`;
}

const url = process.argv[2] ?? defaultUrl();
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_500) });
  if (!response.ok) console.error(`healthcheck: ${url} answered ${response.status}`);
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  console.error(`healthcheck: ${url} did not answer: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
