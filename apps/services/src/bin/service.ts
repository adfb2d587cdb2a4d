import { ConfigError, closeOnSignals, createLogger, loadKeys, startTelemetry } from '@bindery/runtime';
import { loadServiceConfig } from '../config';
import { SERVICES, WORKERS } from '../processes';

/**
 * One Bindery process: `node dist/bin/service.js <service>` for a service or the gateway,
 * `node dist/bin/service.js <service>-worker` for a service's queue workers.
 */
const name = process.argv[2] ?? '';
const worker = name.endsWith('-worker');
const starters: Record<string, (typeof SERVICES)[keyof typeof SERVICES]> = worker ? WORKERS : SERVICES;
const start = starters[worker ? name.slice(0, -'-worker'.length) : name];

try {
  if (!start) {
    const names = [...Object.keys(SERVICES), ...Object.keys(WORKERS).map((service) => `${service}-worker`)];
    throw new ConfigError(`Name the process to start: one of ${names.join(', ')}`);
  }
  const config = loadServiceConfig();
  // Before anything opens a server or a connection; a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const telemetry = await startTelemetry({ service: name, instance: config.INSTANCE_ID });
  const keys = await loadKeys({ dataDir: config.BINDERY_DATA_DIR });
  const running = await start(config, keys);
  closeOnSignals(
    async () => {
      await running.close();
      await telemetry.shutdown();
    },
    createLogger({ service: name, instance: config.INSTANCE_ID }),
  );
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`${name || 'bindery'}: ${error.message}`);
    process.exit(78);
  }
  throw error;
}
