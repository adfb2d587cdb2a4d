'use client';

import { createApiTokenInput } from '@bindery/services/auth/schemas';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import {
  ConfirmButton,
  Empty,
  ErrorState,
  FormError,
  Loading,
  ScrollRegion,
  StatusBadge,
  TextField,
} from '@/components/ui';
import { type FieldErrors, serverFieldErrors, zodFieldErrors } from '@/lib/form-errors';
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
  const [errors, setErrors] = useState<FieldErrors>({});
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
    if (!parsed.success) {
      setErrors(zodFieldErrors(parsed.error));
      return;
    }
    setErrors({});
    try {
      const created = await create.mutateAsync(parsed.data);
      setSecret(created.token);
      formElement.reset();
    } catch (error) {
      setErrors(serverFieldErrors(error));
    }
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
          <button type="submit" className="button button-primary" disabled={create.isPending}>
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
        {tokens.isPending ? (
          <Loading label="Loading tokens…" />
        ) : tokens.isError ? (
          <ErrorState error={tokens.error} retry={() => void tokens.refetch()} />
        ) : tokens.data.length === 0 ? (
          <Empty>You have no API tokens.</Empty>
        ) : (
          <ScrollRegion label="API tokens">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">State</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {tokens.data.map((token) => (
                  <tr key={token.id}>
                    <td>{token.name}</td>
                    <td>{formatDateTime(token.createdAt)}</td>
                    <td>{token.expiresAt ? formatDateTime(token.expiresAt) : 'never'}</td>
                    <td>{token.lastUsedAt ? formatDateTime(token.lastUsedAt) : 'never'}</td>
                    <td>
                      <StatusBadge status={token.revokedAt ? 'revoked' : 'active'} />
                    </td>
                    <td>
                      {token.revokedAt ? null : (
                        <ConfirmButton
                          className="button button-small button-danger"
                          label="Revoke"
                          title="Revoke this token?"
                          description={<p>Apps using “{token.name}” lose access within seconds.</p>}
                          confirmLabel="Revoke token"
                          onConfirm={() => revoke.mutateAsync({ id: token.id })}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
      </div>
    </section>
  );
}
