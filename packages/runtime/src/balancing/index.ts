export { balancedFetch, carriesIdempotencyKey } from './balanced-fetch';
export { CallAbort, type CallAbortListener } from './call-abort';
export { Discovery, type DiscoveryOptions, type Topology } from './discovery';
export type { Endpoint, EndpointOptions, EndpointState } from './endpoint';
export { InstanceFailure, ServiceUnavailableError, type UnavailableReason } from './errors';
export { RetryBudget } from './retry-budget';
export {
  type CallOptions,
  type EndpointView,
  ServicePool,
  type ServicePoolOptions,
  type ServiceView,
} from './service-pool';
export { createStrategy, STRATEGIES, type Strategy, type StrategyName } from './strategies';
