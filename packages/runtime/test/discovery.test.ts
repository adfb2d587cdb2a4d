import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  dnsRegistry,
  etcdRegistry,
  redisRegistry,
  type ServiceInstance,
  type ServiceRegistry,
  staticRegistry,
} from '../src/index';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function instance(service: string, id: string, patch: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    service,
    id,
    url: `http://127.0.0.1:${4000 + id.length}/${id}`,
    version: '1.0.0',
    weight: 1,
    startedAt: new Date().toISOString(),
    procedureHash: 'abc',
    state: 'serving',
    ...patch,
  };
}

/** Follows a registry and resolves when its view passes `check`. */
async function watchUntil(
  registry: ServiceRegistry,
  check: (instances: ServiceInstance[]) => boolean,
  timeoutMs = 10_000,
): Promise<ServiceInstance[]> {
  let stop: () => void = () => {};
  try {
    return await new Promise<ServiceInstance[]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the registry never showed the expected view')),
        timeoutMs,
      );
      void registry
        .watch((instances) => {
          if (check(instances)) {
            clearTimeout(timer);
            resolve(instances);
          }
        })
        .then((unwatch) => {
          stop = unwatch;
        });
    });
  } finally {
    stop();
  }
}

const ids = (instances: ServiceInstance[]) => instances.map((entry) => `${entry.service}/${entry.id}`).sort();

/**
 * The same contract for each backend that registers: entries appear for every watcher, changes
 * propagate, deregistration removes them at once, and an instance that stops without deregistering
 * (its process died) is gone after its TTL.
 */
function registryContract(create: (namespace: string) => ServiceRegistry) {
  test('registers, updates, deregisters, and expires an instance that died silently', async () => {
    const namespace = randomBytes(6).toString('hex');
    const [a, b, watcher] = [create(namespace), create(namespace), create(namespace)];
    try {
      const first = await a.register(instance('catalog', 'one'));
      await b.register(instance('catalog', 'two', { weight: 3 }));
      const both = await watchUntil(watcher, (view) => view.length === 2);
      expect(ids(both)).toEqual(['catalog/one', 'catalog/two']);
      expect(both.find((entry) => entry.id === 'two')?.weight).toBe(3);

      await first.update({ state: 'draining' });
      await watchUntil(watcher, (view) => view.find((entry) => entry.id === 'one')?.state === 'draining');
      await first.deregister();
      await watchUntil(watcher, (view) => ids(view).join() === 'catalog/two');

      // `b` stops heartbeating without deregistering, as a killed process would.
      await b.close();
      const started = Date.now();
      await watchUntil(watcher, (view) => view.length === 0, 10_000);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      await Promise.all([a.close(), b.close(), watcher.close()]);
    }
  }, 30_000);

  test('a watcher is told of changes as they happen, not only when it asks', async () => {
    const namespace = randomBytes(6).toString('hex');
    const [owner, watcher] = [create(namespace), create(namespace)];
    const views: string[][] = [];
    const stop = await watcher.watch((view) => views.push(ids(view)));
    try {
      const registration = await owner.register(instance('users', 'u1'));
      const deadline = Date.now() + 5_000;
      while (!views.some((view) => view.includes('users/u1')) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(views.some((view) => view.includes('users/u1'))).toBe(true);
      await registration.deregister();
    } finally {
      stop();
      await Promise.all([owner.close(), watcher.close()]);
    }
  });
}

describe('the Redis registry', () => {
  registryContract((namespace) =>
    redisRegistry({
      url: REDIS_URL,
      keyPrefix: `bindery-test:${namespace}:`,
      ttlMs: 1_500,
    }),
  );
  const prefix = `bindery-test:${randomBytes(6).toString('hex')}:`;
  test('deployments sharing a Redis do not see each other (key prefix)', async () => {
    const mine = redisRegistry({ url: REDIS_URL, keyPrefix: prefix, ttlMs: 2_000 });
    const theirs = redisRegistry({ url: REDIS_URL, keyPrefix: `${prefix}other:`, ttlMs: 2_000 });
    try {
      await theirs.register(instance('catalog', 'theirs'));
      await mine.register(instance('catalog', 'mine'));
      const view = await watchUntil(mine, (instances) => instances.length >= 1);
      expect(ids(view)).toEqual(['catalog/mine']);
    } finally {
      await Promise.all([mine.close(), theirs.close()]);
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
  });
}

describe('the etcd registry (Debian etcd-server, started here)', () => {
  let etcd: ChildProcess | undefined;
  let dataDir = '';
  let endpoint = '';
  beforeAll(async () => {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    dataDir = mkdtempSync(join(tmpdir(), 'bindery-etcd-'));
    endpoint = `http://127.0.0.1:${clientPort}`;
    etcd = spawn(
      'etcd',
      [
        '--data-dir',
        dataDir,
        '--listen-client-urls',
        endpoint,
        '--advertise-client-urls',
        endpoint,
        '--listen-peer-urls',
        `http://127.0.0.1:${peerPort}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peerPort}`,
        '--initial-cluster',
        `default=http://127.0.0.1:${peerPort}`,
      ],
      { stdio: 'ignore' },
    );
    const failed = new Promise<never>((_, reject) => {
      etcd!.once('error', () =>
        reject(new Error('etcd is needed for this test: apt-get install -y etcd-server')),
      );
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const healthy = await Promise.race([
        fetch(`${endpoint}/health`).then(
          (response) => response.ok,
          () => false,
        ),
        failed,
      ]);
      if (healthy) break;
      if (Date.now() > deadline) throw new Error('etcd did not start within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 30_000);
  afterAll(async () => {
    if (etcd && etcd.exitCode === null) {
      const exited = new Promise((resolve) => etcd!.once('exit', resolve));
      etcd.kill('SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  registryContract((namespace) =>
    etcdRegistry({
      hosts: [endpoint],
      keyPrefix: `/bindery-test-${namespace}/`,
      ttlMs: 2_000,
    }),
  );
});

describe('the static registry', () => {
  test('lists the configured URLs, one instance each, and ignores registrations', async () => {
    const registry = staticRegistry({ catalog: ['http://10.0.0.1:4103', 'http://10.0.0.2:4103/'] });
    await registry.register(instance('catalog', 'ignored'));
    const view = await watchUntil(registry, () => true);
    expect(view.map((entry) => [entry.service, entry.id, entry.url])).toEqual([
      ['catalog', '10.0.0.1:4103', 'http://10.0.0.1:4103'],
      ['catalog', '10.0.0.2:4103', 'http://10.0.0.2:4103'],
    ]);
  });
});

describe('the DNS registry (a DNS server on 127.0.0.1 answering as Kubernetes does)', () => {
  let server: Socket;
  let port = 0;
  /** The pods behind each headless service, as the cluster's DNS would publish them. */
  const pods: Record<string, { ip: string; port: number }[]> = {
    catalog: [
      { ip: '10.1.0.7', port: 4103 },
      { ip: '10.1.0.8', port: 4103 },
    ],
    users: [{ ip: '10.1.0.9', port: 4101 }],
  };
  beforeAll(async () => {
    server = createSocket('udp4');
    server.on('message', (message, remote) => {
      const query = dnsPacket.decode(message);
      const question = query.questions?.[0];
      const answers: dnsPacket.Answer[] = [];
      if (question) {
        const srv = /^_http\._tcp\.(\w+)-headless\.bindery\.svc\.cluster\.local$/.exec(question.name);
        const pod = /^(\d+)-(\d+)-(\d+)-(\d+)\.(\w+)-headless\.bindery\.svc\.cluster\.local$/.exec(
          question.name,
        );
        const plain = /^(\w+)-headless\.bindery\.svc\.cluster\.local$/.exec(question.name);
        if (question.type === 'SRV' && srv) {
          for (const entry of pods[srv[1]!] ?? []) {
            answers.push({
              type: 'SRV',
              name: question.name,
              ttl: 5,
              data: {
                priority: 0,
                weight: 100,
                port: entry.port,
                target: `${entry.ip.replaceAll('.', '-')}.${srv[1]}-headless.bindery.svc.cluster.local`,
              },
            });
          }
        } else if (question.type === 'A' && pod) {
          answers.push({ type: 'A', name: question.name, ttl: 5, data: pod.slice(1, 5).join('.') });
        } else if (question.type === 'A' && plain) {
          for (const entry of pods[plain[1]!] ?? [])
            answers.push({ type: 'A', name: question.name, ttl: 5, data: entry.ip });
        }
      }
      const reply = dnsPacket.encode({
        type: 'response',
        id: query.id,
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
        questions: query.questions,
        answers,
        ...(answers.length === 0 ? { rcode: 'NXDOMAIN' } : {}),
      } as dnsPacket.Packet);
      server.send(reply, remote.port, remote.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    port = server.address().port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('reads SRV records (host and port per pod) and A records (the service port), and follows changes', async () => {
    const registry = dnsRegistry({
      names: {
        catalog: '_http._tcp.catalog-headless.bindery.svc.cluster.local',
        users: 'users-headless.bindery.svc.cluster.local',
        orders: '_http._tcp.orders-headless.bindery.svc.cluster.local',
      },
      ports: { users: 4101 },
      servers: [`127.0.0.1:${port}`],
      intervalMs: 200,
    });
    try {
      const first = await watchUntil(registry, (view) => view.length === 3);
      expect(first.map((entry) => entry.url).sort()).toEqual([
        'http://10.1.0.7:4103',
        'http://10.1.0.8:4103',
        'http://10.1.0.9:4101',
      ]);
      // A pod goes away (its readiness probe failed): the next resolution drops it.
      pods.catalog = [{ ip: '10.1.0.8', port: 4103 }];
      const second = await watchUntil(registry, (view) => view.length === 2);
      expect(second.map((entry) => entry.url).sort()).toEqual([
        'http://10.1.0.8:4103',
        'http://10.1.0.9:4101',
      ]);
    } finally {
      await registry.close();
    }
  });
});
