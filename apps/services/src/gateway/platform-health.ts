export interface InstanceHealth {
  service: string;
  url: string;
  status: 'ready' | 'not-ready' | 'unreachable';
  checks: Record<string, string>;
  latencyMs: number;
}

export interface PlatformHealth {
  status: 'ok' | 'degraded';
  checkedAt: string;
  instances: InstanceHealth[];
}

/** Asks one instance's `/readyz`; never throws. */
export async function probeReadiness(
  service: string,
  url: string,
  timeoutMs = 2_000,
): Promise<InstanceHealth> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json()) as { checks?: Record<string, string> };
    return {
      service,
      url,
      status: response.ok ? 'ready' : 'not-ready',
      checks: body.checks ?? {},
      latencyMs: Math.round(performance.now() - started),
    };
  } catch {
    return {
      service,
      url,
      status: 'unreachable',
      checks: {},
      latencyMs: Math.round(performance.now() - started),
    };
  }
}

/** Every instance's readiness, asked now; `ok` only when all are ready. */
export async function platformHealth(services: Record<string, string>): Promise<PlatformHealth> {
  const instances = await Promise.all(
    Object.entries(services).map(([service, url]) => probeReadiness(service, url)),
  );
  return {
    status: instances.every((instance) => instance.status === 'ready') ? 'ok' : 'degraded',
    checkedAt: new Date().toISOString(),
    instances,
  };
}
