import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceEnv } from '../../../src/config';
import { SERVICES, WORKERS } from '../../../src/processes';

/** One process of the image, as the code defines it and every deployment file must run it. */
export interface BinderyProcess {
  /** The argument of `node dist/bin/service.js`, and the name of its compose service and Deployment. */
  name: string;
  role: 'service' | 'gateway' | 'worker';
  /** The port it listens on in a container (a service's default, WORKER_PORT=9000 for a worker). */
  port: number;
  /** The processes it calls over HTTP. */
  peers: string[];
  usesDatabase: boolean;
}

/** The probe port the deployment files give every queue worker (WORKER_PORT). */
export const WORKER_PORT = 9000;

const sourceRoot = fileURLToPath(new URL('../../../src', import.meta.url));

/**
 * Every process of apps/services/src/processes.ts with what the code says about it: ports from
 * config.ts's defaults; peers from `balancedPeer(…, { target: '<peer>' })` in the service's folder (worker.ts for
 * its worker, the other files for the service); the gateway calls every service by design.
 */
export function binderyProcesses(): BinderyProcess[] {
  const services = Object.keys(SERVICES);
  const workers = Object.keys(WORKERS);
  const portOf = (service: string) => {
    const variable = (serviceEnv as Record<string, { parse(value: unknown): unknown }>)[
      `${service.toUpperCase()}_PORT`
    ];
    if (!variable) throw new Error(`config.ts has no ${service.toUpperCase()}_PORT`);
    return variable.parse(undefined) as number;
  };
  const sources = (service: string, worker: boolean) => {
    const folder = join(sourceRoot, service);
    return readdirSync(folder)
      .filter((file) => file.endsWith('.ts') && (file === 'worker.ts') === worker)
      .map((file) => readFileSync(join(folder, file), 'utf8'))
      .join('\n');
  };
  const peersIn = (code: string) => [
    ...new Set([...code.matchAll(/balancedPeer<\w+>\([^)]*?target: '(\w+)'/gs)].map((match) => match[1]!)),
  ];

  return [
    ...services.map((name): BinderyProcess => {
      const code = sources(name, false);
      return {
        name,
        role: name === 'gateway' ? 'gateway' : 'service',
        port: portOf(name),
        peers: name === 'gateway' ? services.filter((service) => service !== 'gateway') : peersIn(code),
        usesDatabase: code.includes('openServiceDatabase('),
      };
    }),
    ...workers.map((service): BinderyProcess => {
      const code = sources(service, true);
      return {
        name: `${service}-worker`,
        role: 'worker',
        port: WORKER_PORT,
        peers: peersIn(code),
        usesDatabase: code.includes('openServiceDatabase('),
      };
    }),
  ];
}

/** Every environment variable a service process reads (config.ts), plus the ones read elsewhere. */
export function knownVariables(): Set<string> {
  return new Set([
    ...Object.keys(serviceEnv),
    'NODE_ENV',
    'LOG_LEVEL',
    'INTERNAL_TOKEN_SECRET',
    'AUTH_PRIVATE_KEY',
    'AUTH_PUBLIC_KEY',
    'BINDERY_ADMIN_EMAIL',
    'BINDERY_ADMIN_PASSWORD',
  ]);
}
