import { register } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-metrics';

/** Request count and latency of every procedure a process serves, by outcome (`ok` or the error code). */
export const procedureCalls = new HotCounter({
  name: 'bindery_rpc_requests_total',
  help: 'tRPC procedure calls served, by procedure and outcome',
  labelNames: ['procedure', 'type', 'outcome'] as const,
  registers: [register],
});

export const procedureDuration = new HotHistogram({
  name: 'bindery_rpc_request_duration_seconds',
  help: 'tRPC procedure duration in seconds, by procedure and outcome',
  labelNames: ['procedure', 'type', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [register],
});

/** Calls a service makes to a peer (service to service), by target service, instance and outcome. */
export const peerCalls = new HotCounter({
  name: 'bindery_peer_requests_total',
  help: 'Calls to peer services, by caller, target service, target instance and outcome (HTTP status class or network error)',
  labelNames: ['caller', 'service', 'service_instance', 'outcome'] as const,
  registers: [register],
});

export const peerDuration = new HotHistogram({
  name: 'bindery_peer_request_duration_seconds',
  help: 'Time for a peer service to answer a call, by caller, target service and outcome',
  labelNames: ['caller', 'service', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [register],
});
