import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type ChargeResult, type PaymentProvider, PaymentProviderUnavailableError } from './payment-provider';

/**
 * Test card tokens of the sandbox, as a processor's test mode documents them. Any other token is
 * declined as `invalid_token`.
 */
export const SANDBOX_TOKENS = {
  tok_visa: 'captured',
  tok_mastercard: 'captured',
  tok_chargeDeclined: { code: 'card_declined', message: 'The card was declined' },
  tok_insufficientFunds: { code: 'insufficient_funds', message: 'The card has insufficient funds' },
  tok_expiredCard: { code: 'expired_card', message: 'The card has expired' },
  /** Always answers "try again later": the charge is retried, then the order times out. */
  tok_processingError: 'unavailable',
} as const;

/**
 * A payment provider that behaves like a card processor's test mode: a configurable latency,
 * deterministic answers per test token, and idempotency by key (answers are kept in Redis for a day,
 * so every billing instance gives the same answer to the same key).
 */
export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = 'sandbox';

  constructor(
    private readonly redis: Redis,
    private readonly options: {
      /** @defaultValue 50 */
      latencyMs: number;
    },
  ) {}

  private async remembered<T>(key: string, answer: () => T): Promise<T> {
    await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
    const fresh = answer();
    const stored = await this.redis.set(`sandbox:${key}`, JSON.stringify(fresh), 'EX', 86_400, 'NX');
    if (stored === 'OK') return fresh;
    return JSON.parse((await this.redis.get(`sandbox:${key}`)) ?? JSON.stringify(fresh)) as T;
  }

  async charge(request: {
    idempotencyKey: string;
    amountCents: number;
    token: string;
  }): Promise<ChargeResult> {
    const behaviour = SANDBOX_TOKENS[request.token as keyof typeof SANDBOX_TOKENS];
    if (behaviour === 'unavailable') {
      await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
      throw new PaymentProviderUnavailableError('The sandbox processor is unavailable (tok_processingError)');
    }
    return this.remembered<ChargeResult>(`charge:${request.idempotencyKey}`, () => {
      if (behaviour === 'captured')
        return { status: 'captured', reference: `ch_${randomUUID().replaceAll('-', '')}` };
      if (behaviour) return { status: 'declined', code: behaviour.code, message: behaviour.message };
      return {
        status: 'declined',
        code: 'invalid_token',
        message: 'The card token is not one the sandbox knows',
      };
    });
  }

  async refund(request: { idempotencyKey: string }): Promise<{ reference: string }> {
    return this.remembered(`refund:${request.idempotencyKey}`, () => ({
      reference: `re_${randomUUID().replaceAll('-', '')}`,
    }));
  }
}
