'use client';

import { createApiTokenInput } from '@bindery/services/auth/schemas';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { DataTable } from '@/components/data-table';
import { QueryView } from '@/components/query-view';
import { ConfirmButton, FormError, StatusBadge, TextField } from '@/components/ui';
import { useFormSubmit } from '@/components/use-form-submit';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/lib/trpc';

/** The signed-in admin's API tokens: create one (its secret is shown once), list them, revoke one. */
export function ApiTokens() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.auth.tokens.list.queryOptions());
  const refresh = () => queryClient.invalidateQueries(trpc.auth.tokens.pathFilter());
  const create = useMutation(trpc.auth.tokens.create.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.auth.tokens.revoke.mutationOptions({ onSuccess: refresh }));
  const { errors, pending, sendParsed } = useFormSubmit();
  const [secret, setSecret] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const days = String(form.get('expiresInDays') ?? '').trim();
    const parsed = createApiTokenInput.safeParse({
      name: String(form.get('name') ?? ''),
      ...(days ? { expiresInDays: Number(days) } : {}),
    });
    await sendParsed(parsed, async (input) => {
      const created = await create.mutateAsync(input);
      setSecret(created.token);
      formElement.reset();
    });
  }

  return (
    <section className="panel" aria-labelledby="tokens-heading" style={{ marginTop: '1.5rem' }}>
      <h2 id="tokens-heading">Your API tokens</h2>
      <p className="muted">
        For other apps to call the API as you, with <span className="code">Authorization: Bearer bnd_…</span>.
      </p>
      <form className="form" onSubmit={submit} noValidate>
        <FormError message={errors['']} />
        <div className="form-row">
          <TextField label="Token name" name="name" error={errors.name} required />
          <TextField
            label="Expires in days"
            name="expiresInDays"
            type="number"
            min={1}
            hint="Leave empty for a token that lasts until revoked"
            error={errors.expiresInDays}
          />
        </div>
        <div>
          <button type="submit" className="button button-primary" disabled={pending}>
            Create token
          </button>
        </div>
      </form>
      {secret ? (
        <div className="notice" role="status" style={{ marginTop: '0.75rem' }}>
          <p style={{ marginTop: 0 }}>Copy the token now: it is not shown again.</p>
          <pre className="code">{secret}</pre>
        </div>
      ) : null}
      <div style={{ marginTop: '1rem' }}>
        <QueryView
          query={tokens}
          loadingLabel="Loading tokens…"
          isEmpty={(list) => list.length === 0}
          empty="You have no API tokens."
        >
          {(list) => (
            <DataTable
              label="API tokens"
              rows={list}
              rowKey={(token) => token.id}
              columns={[
                { header: 'Name', cell: (token) => token.name },
                { header: 'Created', cell: (token) => formatDateTime(token.createdAt) },
                {
                  header: 'Expires',
                  cell: (token) => (token.expiresAt ? formatDateTime(token.expiresAt) : 'never'),
                },
                {
                  header: 'Last used',
                  cell: (token) => (token.lastUsedAt ? formatDateTime(token.lastUsedAt) : 'never'),
                },
                {
                  header: 'State',
                  cell: (token) => <StatusBadge status={token.revokedAt ? 'revoked' : 'active'} />,
                },
                {
                  header: 'Actions',
                  cell: (token) =>
                    token.revokedAt ? null : (
                      <ConfirmButton
                        className="button button-small button-danger"
                        label="Revoke"
                        title="Revoke this token?"
                        description={<p>Apps using “{token.name}” lose access within seconds.</p>}
                        confirmLabel="Revoke token"
                        onConfirm={() => revoke.mutateAsync({ id: token.id })}
                      />
                    ),
                },
              ]}
            />
          )}
        </QueryView>
      </div>
    </section>
  );
}
