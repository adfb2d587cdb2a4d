export { type DnsRegistryOptions, dnsRegistry } from './dns-registry';
export { type EtcdRegistryOptions, etcdRegistry } from './etcd-registry';
export { type RedisRegistryOptions, redisRegistry } from './redis-registry';
export type {
  HeartbeatOptions,
  Registration,
  ServiceInstance,
  ServiceRegistry,
} from './service-registry';
export { staticRegistry } from './static-registry';
