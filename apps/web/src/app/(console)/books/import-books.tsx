'use client';

import { importBooksInput } from '@bindery/services/catalog/schemas';
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { DataTable } from '@/components/data-table';
import { FormActions } from '@/components/form-actions';
import { FormField } from '@/components/form-field';
import { FormError } from '@/components/ui';
import { useFormSubmit } from '@/components/use-form-submit';
import { useTRPC } from '@/lib/trpc';

/**
 * Sends a CSV (`title,author,isbn,priceCents,stock`) to `catalog.books.import`, then follows the
 * import job: a progress bar while it runs, its counts and the rejected rows with their reasons.
 */
export function ImportBooks({ onImported, onDone }: { onImported: () => void; onDone: () => void }) {
  const trpc = useTRPC();
  const progressId = useId();
  const { errors, pending, sendParsed } = useFormSubmit();
  const [jobId, setJobId] = useState<string | null>(null);
  const start = useMutation(trpc.catalog.books.import.mutationOptions());
  const status = useQuery(
    trpc.catalog.books.importStatus.queryOptions(
      { jobId: jobId ?? '00000000-0000-0000-0000-000000000000' },
      {
        enabled: jobId !== null,
        refetchInterval: (query) =>
          query.state.data?.state === 'completed' || query.state.data?.state === 'failed' ? false : 500,
      },
    ),
  );
  const finished = status.data?.state === 'completed' || status.data?.state === 'failed';
  const reported = useRef<string | null>(null);
  useEffect(() => {
    if (finished && jobId && reported.current !== jobId) {
      reported.current = jobId;
      onImported();
    }
  }, [finished, jobId, onImported]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const file = form.get('file');
    const pasted = String(form.get('csv') ?? '');
    const csv = file instanceof File && file.size > 0 ? await file.text() : pasted;
    const parsed = importBooksInput.safeParse({ csv });
    await sendParsed(parsed, async (input) => {
      const started = await start.mutateAsync(input);
      setJobId(started.jobId);
    });
  }

  if (jobId) {
    const data = status.data;
    return (
      <div className="dialog-body">
        {!data ? (
          <p role="status">Starting the import…</p>
        ) : (
          <>
            <label htmlFor={progressId}>
              {data.state === 'completed'
                ? 'Import complete'
                : data.state === 'failed'
                  ? 'Import failed'
                  : `Importing: ${data.done} of ${data.total} rows`}
            </label>
            <progress id={progressId} className="progress" max={Math.max(data.total, 1)} value={data.done} />
            <p role="status">
              {data.created} created, {data.updated} updated, {data.skipped} unchanged, {data.rejectedCount}{' '}
              rejected
            </p>
            {data.error ? <FormError message={data.error} /> : null}
            {data.rejected.length > 0 ? (
              <DataTable
                label="Rejected rows"
                style={{ maxHeight: '14rem', overflowY: 'auto' }}
                caption="Rejected rows"
                rows={data.rejected}
                rowKey={(row) => row.line}
                columns={[
                  { header: 'Line', numeric: true, cell: (row) => row.line },
                  { header: 'Reason', cell: (row) => row.reason },
                ]}
              />
            ) : null}
          </>
        )}
        <div className="form-actions">
          <button type="button" className="button" onClick={onDone}>
            {finished ? 'Close' : 'Close (the import goes on)'}
          </button>
        </div>
      </div>
    );
  }

  return (
    <form className="form dialog-body" onSubmit={submit} noValidate>
      <p className="muted" style={{ margin: 0 }}>
        A header row naming the columns <span className="code">title,author,isbn,priceCents,stock</span> (isbn
        and stock optional), then one book per row. Books already in the catalog (same ISBN, or same title and
        author) are updated.
      </p>
      <FormError message={errors[''] ?? errors.csv} />
      <FormField label="CSV file">
        {(control) => <input {...control} name="file" type="file" accept=".csv,text/csv" />}
      </FormField>
      <FormField label="Or paste CSV">
        {(control) => <textarea {...control} name="csv" rows={5} className="code" />}
      </FormField>
      <FormActions submitLabel="Import" pendingLabel="Uploading…" pending={pending} onCancel={onDone} />
    </form>
  );
}
