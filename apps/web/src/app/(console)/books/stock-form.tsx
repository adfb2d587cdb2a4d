'use client';

import type { RouterOutputs } from '@bindery/client';
import { adjustStockInput } from '@bindery/services/catalog/schemas';
import type { FormEvent } from 'react';
import { FormActions } from '@/components/form-actions';
import { FormError, TextField } from '@/components/ui';
import { useFormSubmit } from '@/components/use-form-submit';

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
  const { errors, pending, sendParsed } = useFormSubmit();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const deltaText = String(new FormData(event.currentTarget).get('delta') ?? '').trim();
    const parsed = adjustStockInput.safeParse({
      id: book.id,
      delta: deltaText === '' ? Number.NaN : Number(deltaText),
    });
    await sendParsed(parsed, async (input) => {
      await onSubmit(input);
      onDone();
    });
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
      <FormActions submitLabel={'Adjust stock'} pending={pending} onCancel={onDone} />
    </form>
  );
}
