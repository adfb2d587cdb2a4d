'use client';

import type { RouterInputs } from '@bindery/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useCan } from '@/components/providers';
import {
  ConfirmButton,
  Empty,
  ErrorState,
  Loading,
  PageHeader,
  ScrollRegion,
  SelectField,
} from '@/components/ui';
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
        {queues.isPending ? (
          <Loading label="Loading queues…" />
        ) : queues.isError ? (
          <ErrorState error={queues.error} retry={() => void queues.refetch()} />
        ) : (
          <ScrollRegion label="Queue counts">
            <table>
              <thead>
                <tr>
                  <th scope="col">Queue</th>
                  <th scope="col" className="number">
                    Waiting
                  </th>
                  <th scope="col" className="number">
                    Active
                  </th>
                  <th scope="col" className="number">
                    Delayed
                  </th>
                  <th scope="col" className="number">
                    Completed
                  </th>
                  <th scope="col" className="number">
                    Failed
                  </th>
                  <th scope="col" className="number">
                    Oldest waiting
                  </th>
                </tr>
              </thead>
              <tbody>
                {queues.data.map((entry) => (
                  <tr key={entry.name}>
                    <th scope="row">{entry.name}</th>
                    <td className="number">{entry.waiting}</td>
                    <td className="number">{entry.active}</td>
                    <td className="number">{entry.delayed}</td>
                    <td className="number">{entry.completed}</td>
                    <td className="number">{entry.failed}</td>
                    <td className="number">{ageOf(entry.oldestWaitingAgeMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
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
        {retry.error ? (
          <p className="form-error" role="alert">
            {describeError(retry.error)}
          </p>
        ) : null}
        {queue === '' || failed.isPending ? (
          <Loading label="Loading failed jobs…" />
        ) : failed.isError ? (
          <ErrorState error={failed.error} retry={() => void failed.refetch()} />
        ) : failed.data.length === 0 ? (
          <Empty>No failed job in {queue}.</Empty>
        ) : (
          <ScrollRegion label="Failed jobs">
            <table>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Error</th>
                  <th scope="col" className="number">
                    Attempts
                  </th>
                  <th scope="col">Failed at</th>
                  {canRetry || canRemove ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {failed.data.map((job) => (
                  <tr key={job.id}>
                    <td>
                      <div className="code">{job.id}</div>
                      <div className="muted">{job.name}</div>
                      <details>
                        <summary>Data</summary>
                        <pre className="code">{JSON.stringify(job.data, null, 2)}</pre>
                      </details>
                    </td>
                    <td>{job.failedReason}</td>
                    <td className="number">
                      {job.attemptsMade} of {job.attempts}
                    </td>
                    <td>{job.finishedOn ? formatDateTime(job.finishedOn) : '–'}</td>
                    {canRetry || canRemove ? (
                      <td>
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
                              onConfirm={() =>
                                remove.mutateAsync({ queue: queue as QueueName, jobId: job.id })
                              }
                            />
                          ) : null}
                        </div>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
      </section>
    </>
  );
}
