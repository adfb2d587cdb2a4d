import type { PrometheusSample } from './prometheus-text';

/** A service's procedure calls as counted so far (or between two scrapes): calls, failed calls, latency buckets. */
export interface RpcTotals {
  requests: number;
  errors: number;
  /** Cumulative call counts by latency bound in seconds (`le`), `+Inf` included. */
  latencyBuckets: Map<number, number>;
}

export const emptyTotals = (): RpcTotals => ({ requests: 0, errors: 0, latencyBuckets: new Map() });

/**
 * Sums `bindery_rpc_requests_total` and `bindery_rpc_request_duration_seconds` over the procedures
 * of `namespace`. A service serves only its own namespace, so this is everything it served; it also
 * keeps services apart when several share a registry (tests run every service in one process).
 * An error is any outcome but `ok`.
 */
export function rpcTotals(samples: readonly PrometheusSample[], namespace: string): RpcTotals {
  const totals = emptyTotals();
  const prefix = `${namespace}.`;
  for (const { name, labels, value } of samples) {
    if (!labels.procedure?.startsWith(prefix)) continue;
    if (name === 'bindery_rpc_requests_total') {
      totals.requests += value;
      if (labels.outcome !== 'ok') totals.errors += value;
    } else if (name === 'bindery_rpc_request_duration_seconds_bucket' && labels.le !== undefined) {
      const bound = Number(labels.le === '+Inf' ? Number.POSITIVE_INFINITY : labels.le);
      totals.latencyBuckets.set(bound, (totals.latencyBuckets.get(bound) ?? 0) + value);
    }
  }
  return totals;
}

export function addTotals(into: RpcTotals, more: RpcTotals): RpcTotals {
  into.requests += more.requests;
  into.errors += more.errors;
  for (const [bound, count] of more.latencyBuckets)
    into.latencyBuckets.set(bound, (into.latencyBuckets.get(bound) ?? 0) + count);
  return into;
}

/**
 * What was counted between two scrapes of one instance. A counter that went down means the
 * instance restarted: everything it counts now is new, as in PromQL's `increase`.
 */
export function totalsSince(current: RpcTotals, previous: RpcTotals): RpcTotals {
  const restarted =
    current.requests < previous.requests ||
    [...current.latencyBuckets].some(([bound, count]) => count < (previous.latencyBuckets.get(bound) ?? 0));
  if (restarted) return addTotals(emptyTotals(), current);
  return {
    requests: current.requests - previous.requests,
    errors: Math.max(0, current.errors - previous.errors),
    latencyBuckets: new Map(
      [...current.latencyBuckets].map(([bound, count]) => [
        bound,
        count - (previous.latencyBuckets.get(bound) ?? 0),
      ]),
    ),
  };
}
