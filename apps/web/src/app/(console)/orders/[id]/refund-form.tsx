'use client';

import type { RouterOutputs } from '@bindery/client';
import { type FormEvent, useState } from 'react';
import { ConfirmButton, FormError, TextField } from '@/components/ui';
import { useFormSubmit } from '@/components/use-form-submit';
import { formatCents } from '@/lib/format';

type Payment = RouterOutputs['billing']['payments']['byOrder'];

/**
 * Refunds part or the rest of a captured payment. `billing.refunds.create` declares its input inline
 * in the billing router (there is no schemas.ts to share), so this form checks only that the amount
 * reads as money and leaves the rules to the service, whose field errors it shows.
 */
export function RefundForm({
  payment,
  onSubmit,
}: {
  payment: Payment;
  onSubmit: (input: { paymentId: string; amountCents?: number; reason: string }) => Promise<unknown>;
}) {
  const remaining = payment.amountCents - payment.refundedCents;
  const [amount, setAmount] = useState((remaining / 100).toFixed(2));
  const [reason, setReason] = useState('');
  const { errors, setErrors, send } = useFormSubmit();

  function draft() {
    const trimmed = amount.trim();
    if (!/^\d+(\.\d{1,2})?$/.test(trimmed)) return null;
    return { paymentId: payment.id, amountCents: Math.round(Number(trimmed) * 100), reason };
  }

  return (
    <form
      className="form"
      style={{ marginTop: '1rem' }}
      onSubmit={(event: FormEvent) => event.preventDefault()}
      noValidate
    >
      <h3 style={{ margin: 0, fontSize: '1rem' }}>Refund</h3>
      <FormError message={errors[''] ?? errors.paymentId} />
      <div className="form-row">
        <TextField
          label="Amount (USD)"
          value={amount}
          inputMode="decimal"
          onChange={(event) => setAmount(event.target.value)}
          error={errors.amountCents}
          hint={`Up to ${formatCents(remaining)}`}
        />
        <TextField
          label="Reason"
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          error={errors.reason}
        />
      </div>
      <div>
        <ConfirmButton
          label="Refund"
          title="Refund this payment?"
          description={
            <p>The customer's card is refunded {amount.trim() || '0'} USD. This cannot be undone.</p>
          }
          confirmLabel="Refund"
          onConfirm={async () => {
            const input = draft();
            if (!input) {
              setErrors({ amountCents: 'must be an amount such as 12.99' });
              return;
            }
            await send(async () => {
              await onSubmit(input);
              setReason('');
            });
          }}
        />
      </div>
    </form>
  );
}
