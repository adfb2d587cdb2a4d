'use client';

import type { RouterOutputs } from '@bindery/client';
import { adjustStockInput } from '@bindery/services/catalog/schemas';
import { type FormEvent, useState } from 'react';
import { FormError, TextField } from '@/components/ui';
import { type FieldErrors, serverFieldErrors, zodFieldErrors } from '@/lib/form-errors';

type Book = RouterOutputs['catalog']['books']['byId'];

/** Adds copies (a positive change) or removes them (a negative one); stock never goes below zero. */
export function StockForm({
  book,
  onSubmit,
  onDone,
}: {
  book: Book;
  onSubmit: (input: { id: string; delta: number }) => Promise<unknown>;
  onDone: () => void;
}) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [pending, setPending] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const deltaText = String(new FormData(event.currentTarget).get('delta') ?? '').trim();
    const parsed = adjustStockInput.safeParse({
      id: book.id,
      delta: deltaText === '' ? Number.NaN : Number(deltaText),
    });
    if (!parsed.success) {
      setErrors(zodFieldErrors(parsed.error));
      return;
    }
    setPending(true);
    setErrors({});
    try {
      await onSubmit(parsed.data);
      onDone();
    } catch (error) {
      setErrors(serverFieldErrors(error));
    } finally {
      setPending(false);
    }
  }

  return (
    <form className="form dialog-body" onSubmit={submit} noValidate>
      <p>
        “{book.title}” has <strong>{book.stock}</strong> in stock.
      </p>
      <FormError message={errors[''] ?? errors.id} />
      <TextField
        label="Change in stock"
        name="delta"
        type="number"
        hint="For example 10 to add ten copies, or -2 to remove two"
        error={errors.delta}
        required
      />
      <div className="form-actions">
        <button type="button" className="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? 'Saving…' : 'Adjust stock'}
        </button>
      </div>
    </form>
  );
}
