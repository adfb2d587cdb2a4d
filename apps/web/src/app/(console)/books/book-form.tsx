'use client';

import type { RouterOutputs } from '@bindery/client';
import { createBookInput, updateBookInput } from '@bindery/services/catalog/schemas';
import type { FormEvent } from 'react';
import { FormActions } from '@/components/form-actions';
import { FormError, TextField } from '@/components/ui';
import { useFormSubmit } from '@/components/use-form-submit';
import { zodFieldErrors } from '@/lib/form-errors';

type Book = RouterOutputs['catalog']['books']['byId'];

/** `12.99` → 1299; null when the text is not an amount of money. */
function centsOf(price: string): number | null {
  const trimmed = price.trim();
  if (!/^\d+(\.\d{1,2})?$/.test(trimmed)) return null;
  return Math.round(Number(trimmed) * 100);
}

/**
 * Creates a book, or edits `book`. The input is checked with the catalog service's own schema
 * before it is sent, and the service's field errors, if any, appear beside the same fields.
 */
export function BookForm({
  book,
  onSubmit,
  onDone,
}: {
  book?: Book;
  onSubmit: (input: Record<string, unknown>) => Promise<unknown>;
  onDone: () => void;
}) {
  const { errors, setErrors, pending, sendParsed } = useFormSubmit();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? '');
    const cents = centsOf(text('price'));
    const stockText = text('stock').trim();
    const draft = {
      ...(book ? { id: book.id } : {}),
      title: text('title'),
      author: text('author'),
      isbn: text('isbn').trim() === '' ? null : text('isbn'),
      priceCents: cents ?? Number.NaN,
      ...(stockText === '' && book ? {} : { stock: stockText === '' ? 0 : Number(stockText) }),
    };
    const parsed = (book ? updateBookInput : createBookInput).safeParse(draft);
    if (cents === null) {
      const found = parsed.success ? {} : zodFieldErrors(parsed.error);
      setErrors({ ...found, priceCents: 'must be an amount such as 12.99' });
      return;
    }
    await sendParsed<Record<string, unknown>>(parsed, async (input) => {
      await onSubmit(input);
      onDone();
    });
  }

  return (
    <form className="form dialog-body" onSubmit={submit} noValidate>
      <FormError message={errors['']} />
      <TextField label="Title" name="title" defaultValue={book?.title} error={errors.title} required />
      <TextField label="Author" name="author" defaultValue={book?.author} error={errors.author} required />
      <TextField
        label="ISBN"
        name="isbn"
        defaultValue={book?.isbn ?? ''}
        error={errors.isbn}
        hint="ISBN-10 or ISBN-13, without dashes; optional"
        inputMode="numeric"
      />
      <div className="form-row">
        <TextField
          label="Price (USD)"
          name="price"
          defaultValue={book ? (book.priceCents / 100).toFixed(2) : ''}
          error={errors.priceCents}
          inputMode="decimal"
          required
        />
        <TextField
          label="Stock"
          name="stock"
          type="number"
          min={0}
          defaultValue={book ? String(book.stock) : '0'}
          error={errors.stock}
        />
      </div>
      <FormActions submitLabel={book ? 'Save book' : 'Create book'} pending={pending} onCancel={onDone} />
    </form>
  );
}
