export interface InstanceHealth {
  service: string;
  /** The instance's id in the registry. */
  id: string;
  url: string;
  status: 'ready' | 'not-ready' | 'unreachable';
  checks: Record<string, string>;
  latencyMs: number;
}

export interface PlatformHealth {
  status: 'ok' | 'degraded';
  checkedAt: string;
  instances: InstanceHealth[];
  /** What an operator should look at: a service without instances, versions skewed in a rollout. */
  warnings: string[];
}

/** An instance to ask, as the registry lists it. */
export interface InstanceRef {
  service: string;
  id: string;
  url: string;
}

/** Asks one instance's `/readyz`; never throws. */
export async function probeReadiness(
  { service, id, url }: InstanceRef,
  timeoutMs = 2_000,
): Promise<InstanceHealth> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json()) as { checks?: Record<string, string> };
    return {
      service,
      id,
      url,
      status: response.ok ? 'ready' : 'not-ready',
      checks: body.checks ?? {},
      latencyMs: Math.round(performance.now() - started),
    };
  } catch {
    return {
      service,
      id,
      url,
      status: 'unreachable',
      checks: {},
      latencyMs: Math.round(performance.now() - started),
    };
  }
}

/**
 * Every instance's readiness, asked now; `ok` only when all are ready and every service in
 * `expected` has an instance. `warnings` come from the caller's view of the topology.
 */
export async function platformHealth(
  refs: readonly InstanceRef[],
  expected: readonly string[] = [],
  warnings: readonly string[] = [],
): Promise<PlatformHealth> {
  const instances = await Promise.all(refs.map((ref) => probeReadiness(ref)));
  const missing = expected.filter((service) => !refs.some((ref) => ref.service === service));
  const allWarnings = [...missing.map((service) => `${service} has no instance registered`), ...warnings];
  return {
    status:
      missing.length === 0 && instances.every((instance) => instance.status === 'ready') ? 'ok' : 'degraded',
    checkedAt: new Date().toISOString(),
    instances,
    warnings: allWarnings,
  };
}
