'use client';

import { ROLES } from '@bindery/api/shared';
import type { RouterOutputs } from '@bindery/client';
import { createUserInput, updateUserInput } from '@bindery/services/users/schemas';
import { type FormEvent, useId } from 'react';
import { FormActions } from '@/components/form-actions';
import { FormError, TextField } from '@/components/ui';
import { useFormSubmit } from '@/components/use-form-submit';

type User = RouterOutputs['users']['byId'];

/** Creates a user, or edits `user`'s name, email and roles, checked with the users service's schemas. */
export function UserForm({
  user,
  onSubmit,
  onDone,
}: {
  user?: User;
  onSubmit: (input: Record<string, unknown>) => Promise<unknown>;
  onDone: () => void;
}) {
  const { errors, pending, sendParsed } = useFormSubmit();
  const rolesId = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const password = String(form.get('password') ?? '');
    const draft = {
      ...(user ? { id: user.id } : {}),
      email: String(form.get('email') ?? ''),
      name: String(form.get('name') ?? ''),
      roles: form.getAll('roles').map(String),
      ...(!user && password !== '' ? { password } : {}),
    };
    const parsed = (user ? updateUserInput : createUserInput).safeParse(draft);
    await sendParsed<Record<string, unknown>>(parsed, async (input) => {
      await onSubmit(input);
      onDone();
    });
  }

  const current = new Set<string>(user?.roles ?? ['viewer']);
  return (
    <form className="form dialog-body" onSubmit={submit} noValidate>
      <FormError message={errors[''] ?? errors.id} />
      <TextField
        label="Email"
        name="email"
        type="email"
        defaultValue={user?.email}
        error={errors.email}
        required
      />
      <TextField label="Name" name="name" defaultValue={user?.name} error={errors.name} required />
      <fieldset className="fieldset" aria-describedby={errors.roles ? `${rolesId}-error` : undefined}>
        <legend>Roles</legend>
        {ROLES.map((role) => (
          <label key={role}>
            <input type="checkbox" name="roles" value={role} defaultChecked={current.has(role)} /> {role}
          </label>
        ))}
      </fieldset>
      {errors.roles ? (
        <span id={`${rolesId}-error`} className="field-error">
          {errors.roles}
        </span>
      ) : null}
      {user ? null : (
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint="At least 12 characters; leave empty for an account that cannot sign in yet"
          error={errors.password}
        />
      )}
      <FormActions submitLabel={user ? 'Save user' : 'Create user'} pending={pending} onCancel={onDone} />
    </form>
  );
}
