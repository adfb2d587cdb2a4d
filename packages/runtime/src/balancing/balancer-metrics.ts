import { Counter } from 'prom-client';

export const balancerRetries = new Counter({
  name: 'bindery_balancer_retries_total',
  help: 'Calls retried on another instance, by service and why (failed: the instance failed a safe call; not-sent: it never got it)',
  labelNames: ['service', 'reason'] as const,
});

export const balancerEjections = new Counter({
  name: 'bindery_balancer_ejections_total',
  help: 'Times an instance was ejected after consecutive failures (its circuit breaker opened)',
  labelNames: ['service', 'service_instance'] as const,
});

export const balancerRefusals = new Counter({
  name: 'bindery_balancer_refusals_total',
  help: 'Calls refused or not retried by a policy: circuit-open (service breaker), bulkhead (every instance full), retry-budget',
  labelNames: ['service', 'reason'] as const,
});
