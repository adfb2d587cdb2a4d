import { ConfigError, closeOnSignals, createLogger, loadKeys } from '@bindery/runtime';
import { startAuth } from '../auth/main';
import { startCatalog } from '../catalog/main';
import { loadServiceConfig } from '../config';
import { startGateway } from '../gateway/main';
import { startUsers } from '../users/main';

/** `node dist/bin/service.js <users|auth|catalog|gateway>`: one Bindery process. */
const starters = { users: startUsers, auth: startAuth, catalog: startCatalog, gateway: startGateway };
const name = process.argv[2] as keyof typeof starters;

try {
  const start = starters[name];
  if (!start) throw new ConfigError(`Name the process to start: one of ${Object.keys(starters).join(', ')}`);
  const config = loadServiceConfig();
  const keys = await loadKeys({ dataDir: config.BINDERY_DATA_DIR });
  const service = await start(config, keys);
  closeOnSignals(service.close, createLogger({ service: name, instance: config.INSTANCE_ID }));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`${name ?? 'bindery'}: ${error.message}`);
    process.exit(78);
  }
  throw error;
}
