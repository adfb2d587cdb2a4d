'use client';

import { ROLES, type Role } from '@bindery/api/shared';
import type { RouterOutputs } from '@bindery/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useCan, useUser } from '@/components/providers';
import {
  ConfirmButton,
  Dialog,
  Empty,
  ErrorState,
  Loading,
  PageHeader,
  Pager,
  ScrollRegion,
  SelectField,
  StatusBadge,
  TextField,
  useCursorPages,
  useDebounced,
} from '@/components/ui';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/lib/trpc';
import { ApiTokens } from './api-tokens';
import { UserForm } from './user-form';

type User = RouterOutputs['users']['byId'];
type Status = 'active' | 'disabled';

export function Users() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const can = useCan();
  const me = useUser();
  const [search, setSearch] = useState('');
  const [role, setRole] = useState<Role | ''>('');
  const [status, setStatus] = useState<Status | ''>('');
  const settledSearch = useDebounced(search.trim());
  const pages = useCursorPages();
  const [editing, setEditing] = useState<{ user?: User } | null>(null);

  const list = useQuery(
    trpc.users.list.queryOptions({
      limit: 20,
      ...(settledSearch ? { search: settledSearch } : {}),
      ...(role ? { role } : {}),
      ...(status ? { status } : {}),
      ...(pages.cursor ? { cursor: pages.cursor } : {}),
    }),
  );
  const refresh = () => queryClient.invalidateQueries(trpc.users.pathFilter());
  const create = useMutation(trpc.users.create.mutationOptions({ onSuccess: refresh }));
  const update = useMutation(trpc.users.update.mutationOptions({ onSuccess: refresh }));
  const disable = useMutation(trpc.users.disable.mutationOptions({ onSuccess: refresh }));
  const enable = useMutation(trpc.users.enable.mutationOptions({ onSuccess: refresh }));
  const canEdit = can('users.update');
  const canToggle = can('users.disable') && can('users.enable');
  const filtered = Boolean(settledSearch || role || status);

  return (
    <>
      <PageHeader title="Users">
        {can('users.create') ? (
          <button type="button" className="button button-primary" onClick={() => setEditing({})}>
            New user
          </button>
        ) : null}
      </PageHeader>

      <search className="filters">
        <TextField
          label="Search users"
          type="search"
          placeholder="Name or email"
          value={search}
          onChange={(event) => {
            setSearch(event.target.value);
            pages.reset();
          }}
        />
        <SelectField
          label="Role"
          value={role}
          onChange={(event) => {
            setRole(event.target.value as Role | '');
            pages.reset();
          }}
        >
          <option value="">Any role</option>
          {ROLES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </SelectField>
        <SelectField
          label="Status"
          value={status}
          onChange={(event) => {
            setStatus(event.target.value as Status | '');
            pages.reset();
          }}
        >
          <option value="">Any status</option>
          <option value="active">active</option>
          <option value="disabled">disabled</option>
        </SelectField>
      </search>

      {list.isPending ? (
        <Loading label="Loading users…" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <Empty>{filtered ? 'No user matches these filters.' : 'There are no users yet.'}</Empty>
      ) : (
        <>
          <ScrollRegion label="Users">
            <table>
              <caption className="muted" style={{ textAlign: 'left', padding: '0.5rem 0.7rem' }}>
                Users, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  {canEdit || canToggle ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((user) => (
                  <tr key={user.id}>
                    <td>{user.name}</td>
                    <td>{user.email}</td>
                    <td>{user.roles.join(', ')}</td>
                    <td>
                      <StatusBadge status={user.status} />
                    </td>
                    <td>{formatDateTime(user.createdAt)}</td>
                    {canEdit || canToggle ? (
                      <td>
                        <div className="row-actions">
                          {canEdit ? (
                            <button
                              type="button"
                              className="button button-small"
                              aria-label={`Edit ${user.name}`}
                              onClick={() => setEditing({ user })}
                            >
                              Edit
                            </button>
                          ) : null}
                          {canToggle && user.id !== me.id ? (
                            user.status === 'active' ? (
                              <ConfirmButton
                                className="button button-small button-danger"
                                label="Disable"
                                title="Disable this user?"
                                description={
                                  <p>
                                    {user.name} ({user.email}) can no longer sign in, and their API tokens
                                    stop working. You can enable the account again later.
                                  </p>
                                }
                                confirmLabel="Disable user"
                                onConfirm={() => disable.mutateAsync({ id: user.id })}
                              />
                            ) : (
                              <button
                                type="button"
                                className="button button-small"
                                onClick={() => enable.mutate({ id: user.id })}
                              >
                                Enable
                              </button>
                            )
                          ) : null}
                        </div>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
          <Pager
            page={pages.page}
            hasNext={Boolean(list.data.nextCursor)}
            onPrevious={pages.previous}
            onNext={() => list.data.nextCursor && pages.next(list.data.nextCursor)}
          />
        </>
      )}

      <Dialog
        title={editing?.user ? 'Edit user' : 'New user'}
        open={editing !== null}
        onClose={() => setEditing(null)}
      >
        {editing ? (
          <UserForm
            {...(editing.user ? { user: editing.user } : {})}
            onSubmit={(input) =>
              editing.user
                ? update.mutateAsync(input as Parameters<typeof update.mutateAsync>[0])
                : create.mutateAsync(input as Parameters<typeof create.mutateAsync>[0])
            }
            onDone={() => setEditing(null)}
          />
        ) : null}
      </Dialog>

      {can('users.update') ? <ApiTokens /> : null}
    </>
  );
}
