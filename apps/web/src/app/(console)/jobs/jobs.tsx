'use client';

import type { RouterInputs } from '@bindery/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { DataTable } from '@/components/data-table';
import { useCan } from '@/components/providers';
import { QueryView } from '@/components/query-view';
import { ConfirmButton, FormError, PageHeader, SelectField } from '@/components/ui';
import { describeError } from '@/lib/form-errors';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/lib/trpc';

type QueueName = RouterInputs['system']['queues']['failed']['queue'];

function ageOf(ms: number): string {
  if (ms === 0) return '–';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function Jobs() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const can = useCan();
  const queues = useQuery(trpc.system.queues.list.queryOptions(undefined, { refetchInterval: 5_000 }));
  const [chosen, setChosen] = useState<QueueName | ''>('');
  const withFailures = queues.data?.find((queue) => queue.failed > 0)?.name;
  const queue = (chosen || withFailures || queues.data?.[0]?.name || '') as QueueName | '';
  const failed = useQuery(
    trpc.system.queues.failed.queryOptions(
      { queue: (queue || 'catalog-events') as QueueName, limit: 50 },
      { enabled: queue !== '', refetchInterval: 10_000 },
    ),
  );
  const refresh = () => queryClient.invalidateQueries(trpc.system.queues.pathFilter());
  const retry = useMutation(trpc.system.queues.retry.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.system.queues.remove.mutationOptions({ onSuccess: refresh }));
  const canRetry = can('system.queues.retry');
  const canRemove = can('system.queues.remove');

  return (
    <>
      <PageHeader title="Jobs" />
      <section className="panel" aria-labelledby="counts-heading">
        <h2 id="counts-heading">Queues</h2>
        <QueryView query={queues} loadingLabel="Loading queues…">
          {(entries) => (
            <DataTable
              label="Queue counts"
              rows={entries}
              rowKey={(entry) => entry.name}
              columns={[
                { header: 'Queue', rowHeader: true, cell: (entry) => entry.name },
                { header: 'Waiting', numeric: true, cell: (entry) => entry.waiting },
                { header: 'Active', numeric: true, cell: (entry) => entry.active },
                { header: 'Delayed', numeric: true, cell: (entry) => entry.delayed },
                { header: 'Completed', numeric: true, cell: (entry) => entry.completed },
                { header: 'Failed', numeric: true, cell: (entry) => entry.failed },
                { header: 'Oldest waiting', numeric: true, cell: (entry) => ageOf(entry.oldestWaitingAgeMs) },
              ]}
            />
          )}
        </QueryView>
      </section>

      <section className="panel" aria-labelledby="failed-heading">
        <h2 id="failed-heading">Failed jobs</h2>
        <p className="muted">
          Jobs that used every attempt. Retry one once its cause is fixed, or remove it.
        </p>
        <div className="filters">
          <SelectField
            label="Queue"
            value={queue}
            onChange={(event) => setChosen(event.target.value as QueueName)}
          >
            {(queues.data ?? []).map((entry) => (
              <option key={entry.name} value={entry.name}>
                {entry.name} ({entry.failed} failed)
              </option>
            ))}
          </SelectField>
        </div>
        <FormError message={retry.error ? describeError(retry.error) : undefined} />
        <QueryView
          query={failed}
          ready={queue !== ''}
          loadingLabel="Loading failed jobs…"
          isEmpty={(jobs) => jobs.length === 0}
          empty={`No failed job in ${queue}.`}
        >
          {(jobs) => (
            <DataTable
              label="Failed jobs"
              rows={jobs}
              rowKey={(job) => job.id}
              columns={[
                {
                  header: 'Job',
                  cell: (job) => (
                    <>
                      <div className="code">{job.id}</div>
                      <div className="muted">{job.name}</div>
                      <details>
                        <summary>Data</summary>
                        <pre className="code">{JSON.stringify(job.data, null, 2)}</pre>
                      </details>
                    </>
                  ),
                },
                { header: 'Error', cell: (job) => job.failedReason },
                {
                  header: 'Attempts',
                  numeric: true,
                  cell: (job) => `${job.attemptsMade} of ${job.attempts}`,
                },
                {
                  header: 'Failed at',
                  cell: (job) => (job.finishedOn ? formatDateTime(job.finishedOn) : '–'),
                },
                (canRetry || canRemove) && {
                  header: 'Actions',
                  cell: (job) => (
                    <div className="row-actions">
                      {canRetry ? (
                        <button
                          type="button"
                          className="button button-small"
                          disabled={retry.isPending}
                          onClick={() => retry.mutate({ queue: queue as QueueName, jobId: job.id })}
                        >
                          Retry
                        </button>
                      ) : null}
                      {canRemove ? (
                        <ConfirmButton
                          className="button button-small button-danger"
                          label="Remove"
                          title="Remove this job?"
                          description={
                            <p>
                              Job {job.id} is deleted from {queue} and will not run again.
                            </p>
                          }
                          confirmLabel="Remove job"
                          onConfirm={() => remove.mutateAsync({ queue: queue as QueueName, jobId: job.id })}
                        />
                      ) : null}
                    </div>
                  ),
                },
              ]}
            />
          )}
        </QueryView>
      </section>
    </>
  );
}
