/**
 * Resolves once the gateway's balancer lists exactly `count` catalog instances, all ready (asked
 * through `system.topology`); the benchmarks measure only after that.
 */
export async function waitForReadyCatalogs(gatewayUrl: string, token: string, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${gatewayUrl}/trpc/system.topology`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const reply = (await response.json()) as {
      result?: { data: { services: { service: string; instances: { state: string }[] }[] } };
    };
    const catalog = reply.result?.data.services.find((service) => service.service === 'catalog');
    if (
      catalog?.instances.length === count &&
      catalog.instances.every((instance) => instance.state === 'ready')
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the gateway never saw exactly ${count} ready catalog instance(s)`);
}
