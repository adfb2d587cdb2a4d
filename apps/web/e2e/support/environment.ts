import { randomBytes, randomInt } from 'node:crypto';
import { createServer } from 'node:net';

/** Debian's chromium: Playwright never downloads a browser here. */
export const CHROMIUM = '/usr/bin/chromium';

/** Processes of the platform that listen on a port of their own, in the order their ports are given. */
export const PLATFORM_PORTS = [
  'GATEWAY',
  'USERS',
  'AUTH',
  'CATALOG',
  'ORDERS',
  'BILLING',
  'NOTIFICATIONS',
] as const;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Picks the run's ports once, in the runner process: a block of consecutive free ports below the
 * range the system hands out for outgoing connections (32768 and up), so nothing takes them meanwhile.
 */
export async function allocatePorts(): Promise<void> {
  if (process.env.E2E_PORT_BASE) return;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = randomInt(20_000, 32_000);
    const ports = Array.from({ length: PLATFORM_PORTS.length + 1 }, (_, index) => base + index);
    if ((await Promise.all(ports.map(portIsFree))).every(Boolean)) {
      process.env.E2E_PORT_BASE = String(base);
      return;
    }
  }
  throw new Error('Found no block of free ports for the platform and the console');
}

/**
 * Where this run's platform and console listen, and the seeded admin's password. Chosen once in the
 * runner process (the config file is loaded there first) and handed to the worker processes through
 * the environment they inherit, so every process agrees. The global setup checks the ports are free.
 */
export function e2eEnvironment() {
  if (!process.env.E2E_PORT_BASE) throw new Error('allocatePorts() must run first (playwright.config.ts)');
  process.env.E2E_ADMIN_PASSWORD ??= `e2e-${randomBytes(12).toString('base64url')}`;
  const base = Number(process.env.E2E_PORT_BASE);
  const ports = Object.fromEntries(PLATFORM_PORTS.map((name, index) => [name, base + index])) as Record<
    (typeof PLATFORM_PORTS)[number],
    number
  >;
  const webPort = base + PLATFORM_PORTS.length;
  return {
    ports,
    webPort,
    gatewayUrl: `http://127.0.0.1:${ports.GATEWAY}`,
    webUrl: `http://127.0.0.1:${webPort}`,
    admin: { email: 'admin@bindery.local', password: process.env.E2E_ADMIN_PASSWORD },
  };
}
