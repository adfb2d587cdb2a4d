'use client';

import type { AppRouter, RouterOutputs } from '@bindery/client';
import { useQuery } from '@tanstack/react-query';
import { createTRPCClient, httpSubscriptionLink } from '@trpc/client';
import { useEffect, useRef, useState } from 'react';
import { DataTable } from '@/components/data-table';
import { Sparkline } from '@/components/sparkline';
import { Topology, type TopologyQueue, type TopologyService } from '@/components/topology';
import { ErrorState, Loading, PageHeader, StatusBadge } from '@/components/ui';
import { formatDateTime, formatMs, formatPercent, formatRate } from '@/lib/format';
import { useTRPC } from '@/lib/trpc';

type Health = RouterOutputs['system']['health'];
type Metrics = RouterOutputs['system']['metrics'];
type Queues = RouterOutputs['system']['queues']['list'];
type BalancedInstance = RouterOutputs['system']['topology']['services'][number]['instances'][number];
type Connection = 'connecting' | 'live' | 'reconnecting';

const POLL_MS = 15_000;

/** A service card's charts: each a series of the gateway's metrics for it, and its latest value. */
const CHARTS = [
  { label: 'Requests/s', metric: 'requestsPerSecond', format: formatRate },
  { label: 'Errors', metric: 'errorRatio', format: formatPercent },
  { label: 'p50', metric: 'p50Ms', format: formatMs },
  { label: 'p99', metric: 'p99Ms', format: formatMs },
] as const;

/**
 * The platform as the gateway sees it, kept current by the `system.live` Server-Sent Events stream
 * (one snapshot per scrape). Until the stream delivers, or while it reconnects, the same data comes
 * from `system.health`, `system.metrics` and `system.queues.list`, polled.
 */
function useLivePlatform() {
  const trpc = useTRPC();
  const [connection, setConnection] = useState<Connection>('connecting');
  const [snapshot, setSnapshot] = useState<{
    health: Health;
    metrics: Metrics;
    queues: Queues | null;
  } | null>(null);
  const poll = connection === 'live' ? false : POLL_MS;
  const health = useQuery(trpc.system.health.queryOptions(undefined, { refetchInterval: poll }));
  const metrics = useQuery(trpc.system.metrics.queryOptions(undefined, { refetchInterval: poll }));
  const queues = useQuery(trpc.system.queues.list.queryOptions(undefined, { refetchInterval: poll }));

  useEffect(() => {
    const client = createTRPCClient<AppRouter>({ links: [httpSubscriptionLink({ url: '/api/trpc' })] });
    const subscription = client.system.live.subscribe(undefined, {
      onData: (event) => {
        setSnapshot(event.data);
        setConnection('live');
      },
      onError: () => setConnection('reconnecting'),
      onConnectionStateChange: (state) => {
        if (state.state === 'connecting' && state.error) setConnection('reconnecting');
      },
    });
    return () => subscription.unsubscribe();
  }, []);

  return {
    connection,
    health: snapshot?.health ?? health.data,
    metrics: snapshot?.metrics ?? metrics.data,
    queues: snapshot ? snapshot.queues : queues.data,
    error: health.error ?? metrics.error ?? null,
    refetch: () => Promise.all([health.refetch(), metrics.refetch(), queues.refetch()]),
  };
}

/** Jobs per second per queue, from the change in completed and failed counts between two readings. */
function useJobRates(queues: Queues | null | undefined): Record<string, number | null> {
  const previous = useRef<{ at: number; done: Record<string, number> } | null>(null);
  const [rates, setRates] = useState<Record<string, number | null>>({});
  useEffect(() => {
    if (!queues) return;
    const now = Date.now();
    const done = Object.fromEntries(queues.map((queue) => [queue.name, queue.completed + queue.failed]));
    const last = previous.current;
    if (last && now - last.at > 500) {
      const seconds = (now - last.at) / 1000;
      setRates(
        Object.fromEntries(
          queues.map((queue) => {
            const before = last.done[queue.name];
            const delta = before === undefined ? null : done[queue.name]! - before;
            return [queue.name, delta === null || delta < 0 ? null : delta / seconds];
          }),
        ),
      );
    }
    previous.current = { at: now, done };
  }, [queues]);
  return rates;
}

function stateOf(statuses: string[]): TopologyService['state'] {
  if (statuses.length > 0 && statuses.every((status) => status === 'ready')) return 'up';
  if (statuses.some((status) => status === 'ready')) return 'degraded';
  return 'down';
}

/** The service whose worker consumes a queue: `catalog-events` and `catalog-imports` are catalog's. */
const ownerOf = (queue: string) => queue.split('-')[0] ?? queue;

/** One instance as the gateway's balancer sees it: state, breaker, calls in flight, latency average. */
function balancerSummary(instance: BalancedInstance | undefined): string {
  if (!instance) return '';
  const latency = instance.latencyMs === null ? '' : `, ~${formatMs(instance.latencyMs)}`;
  const breaker = instance.breaker === 'closed' ? '' : `, breaker ${instance.breaker}`;
  return ` · balancer: ${instance.state}${breaker}, ${instance.inFlight} in flight${latency}`;
}

export function Overview() {
  const live = useLivePlatform();
  const jobRates = useJobRates(live.queues);
  const trpc = useTRPC();
  const topology = useQuery(trpc.system.topology.queryOptions(undefined, { refetchInterval: 5_000 }));
  const balanced = (service: string, id: string) =>
    topology.data?.services
      .find((entry) => entry.service === service)
      ?.instances.find((instance) => instance.id === id);

  if (!live.health && live.error) return <ErrorState error={live.error} retry={() => void live.refetch()} />;
  if (!live.health) return <Loading label="Asking the gateway for the platform's state…" />;

  const byService = new Map<string, Health['instances']>();
  for (const instance of live.health.instances) {
    byService.set(instance.service, [...(byService.get(instance.service) ?? []), instance]);
  }
  const metricsOf = (service: string) => live.metrics?.services.find((entry) => entry.service === service);
  // The gateway is the picture's root; the services are what it calls.
  const gatewayInstances = byService.get('gateway') ?? [];
  byService.delete('gateway');
  const services: TopologyService[] = [...byService.entries()].map(([name, instances]) => ({
    name,
    state: stateOf(instances.map((instance) => instance.status)),
    requestsPerSecond: metricsOf(name)?.current?.requestsPerSecond ?? null,
  }));
  const queues: TopologyQueue[] = (live.queues ?? []).map((queue) => ({
    name: queue.name,
    service: ownerOf(queue.name),
    waiting: queue.waiting,
    jobsPerSecond: jobRates[queue.name] ?? null,
  }));

  return (
    <>
      <PageHeader title="Overview">
        <p className="live" role="status">
          {live.connection === 'live'
            ? '● Live'
            : live.connection === 'connecting'
              ? 'Connecting…'
              : 'Reconnecting…'}
          {live.metrics?.scrapedAt ? ` · updated ${formatDateTime(live.metrics.scrapedAt)}` : ''}
        </p>
      </PageHeader>

      <section className="panel" aria-labelledby="platform-heading">
        <h2 id="platform-heading">
          Platform <StatusBadge status={live.health.status === 'ok' ? 'up' : 'degraded'} />
        </h2>
        {live.health.warnings.length > 0 ? (
          <ul className="state state-error" aria-label="Warnings">
            {live.health.warnings.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
        ) : null}
        <Topology services={services} queues={queues} />
      </section>

      <section aria-labelledby="services-heading">
        <h2 id="services-heading">Services</h2>
        <ul className="services" style={{ listStyle: 'none', padding: 0, margin: '0 0 1rem' }}>
          <li className="panel service-card" aria-label="gateway">
            <header>
              <h3>gateway</h3>
              <StatusBadge status="up" />
            </header>
            {gatewayInstances.length > 0 ? (
              <ul className="muted" style={{ margin: 0, paddingLeft: '1.1rem', fontSize: '0.85rem' }}>
                {gatewayInstances.map((instance) => (
                  <li key={instance.url}>
                    <span className="code">{instance.url}</span> — {instance.status}
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted" style={{ margin: 0 }}>
                Answering: this page reads the platform through it.
              </p>
            )}
          </li>
          {services.map((service) => {
            const metrics = metricsOf(service.name);
            const points = metrics?.points ?? [];
            const current = metrics?.current ?? null;
            return (
              <li key={service.name} className="panel service-card" aria-label={service.name}>
                <header>
                  <h3>{service.name}</h3>
                  <StatusBadge status={service.state} />
                </header>
                <ul
                  className="muted"
                  style={{ margin: '0 0 0.6rem', paddingLeft: '1.1rem', fontSize: '0.85rem' }}
                >
                  {(byService.get(service.name) ?? []).map((instance) => (
                    <li key={instance.url}>
                      <span className="code">{instance.url}</span> — {instance.status}, {instance.latencyMs}{' '}
                      ms{balancerSummary(balanced(service.name, instance.id))}
                    </li>
                  ))}
                </ul>
                <div className="charts">
                  {CHARTS.map((chart) => (
                    <Sparkline
                      key={chart.label}
                      label={chart.label}
                      values={points.map((point) => point[chart.metric])}
                      display={chart.format(current?.[chart.metric])}
                    />
                  ))}
                </div>
              </li>
            );
          })}
        </ul>
      </section>

      <section className="panel" aria-labelledby="queues-heading">
        <h2 id="queues-heading">Queues</h2>
        {live.queues === null ? (
          <p className="state state-error">Redis did not answer in time; queue counts are unknown.</p>
        ) : (
          <DataTable
            label="Queue depths"
            caption="Depth (waiting) and jobs per state of every queue"
            rows={live.queues ?? []}
            rowKey={(queue) => queue.name}
            columns={[
              { header: 'Queue', rowHeader: true, cell: (queue) => queue.name },
              { header: 'Waiting', numeric: true, cell: (queue) => queue.waiting },
              { header: 'Active', numeric: true, cell: (queue) => queue.active },
              { header: 'Delayed', numeric: true, cell: (queue) => queue.delayed },
              { header: 'Failed', numeric: true, cell: (queue) => queue.failed },
              { header: 'Jobs/s', numeric: true, cell: (queue) => formatRate(jobRates[queue.name] ?? null) },
            ]}
          />
        )}
      </section>
    </>
  );
}
