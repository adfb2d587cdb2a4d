'use client';

import { ROLES, type Role } from '@bindery/api/shared';
import type { RouterOutputs } from '@bindery/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { FilterSelect } from '@/components/filter-select';
import { PagedTable } from '@/components/paged-table';
import { useCan, useUser } from '@/components/providers';
import {
  ConfirmButton,
  Dialog,
  PageHeader,
  StatusBadge,
  TextField,
  useCursorPages,
  useDebounced,
} from '@/components/ui';
import { usePageFilter } from '@/components/use-page-filter';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/lib/trpc';
import { ApiTokens } from './api-tokens';
import { UserForm } from './user-form';

type User = RouterOutputs['users']['byId'];
const STATUSES = ['active', 'disabled'] as const;
type Status = (typeof STATUSES)[number];

export function Users() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const can = useCan();
  const me = useUser();
  const pages = useCursorPages();
  const [search, setSearch] = usePageFilter('', pages);
  const [role, setRole] = usePageFilter<Role | ''>('', pages);
  const [status, setStatus] = usePageFilter<Status | ''>('', pages);
  const settledSearch = useDebounced(search.trim());
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
          onChange={(event) => setSearch(event.target.value)}
        />
        <FilterSelect label="Role" anyLabel="Any role" options={ROLES} value={role} onChange={setRole} />
        <FilterSelect
          label="Status"
          anyLabel="Any status"
          options={STATUSES}
          value={status}
          onChange={setStatus}
        />
      </search>

      <PagedTable
        query={list}
        pages={pages}
        label="Users"
        caption="Users, newest first"
        loadingLabel="Loading users…"
        empty={filtered ? 'No user matches these filters.' : 'There are no users yet.'}
        rowKey={(user) => user.id}
        columns={[
          { header: 'Name', cell: (user) => user.name },
          { header: 'Email', cell: (user) => user.email },
          { header: 'Roles', cell: (user) => user.roles.join(', ') },
          { header: 'Status', cell: (user) => <StatusBadge status={user.status} /> },
          { header: 'Created', cell: (user) => formatDateTime(user.createdAt) },
          (canEdit || canToggle) && {
            header: 'Actions',
            cell: (user) => (
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
                          {user.name} ({user.email}) can no longer sign in, and their API tokens stop working.
                          You can enable the account again later.
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
            ),
          },
        ]}
      />

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
