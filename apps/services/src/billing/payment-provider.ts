/** What a card processor answers to a charge. */
export type ChargeResult =
  | { status: 'captured'; reference: string }
  | { status: 'declined'; code: string; message: string };

/**
 * The processor refused the request without processing it (as an HTTP 503 from a card processor
 * does); the same request (same idempotency key) may be retried.
 */
export class PaymentProviderUnavailableError extends Error {
  override name = 'PaymentProviderUnavailableError';
}

/**
 * A card processor. Every request carries an idempotency key: repeating a request with the same key
 * returns the first answer and moves no money again, as real processors do.
 */
export interface PaymentProvider {
  readonly name: string;
  charge(request: {
    idempotencyKey: string;
    amountCents: number;
    currency: string;
    token: string;
  }): Promise<ChargeResult>;
  refund(request: {
    idempotencyKey: string;
    chargeReference: string;
    amountCents: number;
  }): Promise<{ reference: string }>;
}
