import { z } from 'zod';

export const ORDER_STATUSES = ['PENDING', 'CONFIRMED', 'FAILED', 'CANCELLED'] as const;

const orderItem = z.strictObject({
  bookId: z.uuid('must be a book id'),
  quantity: z.int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000'),
});

export const createOrderInput = z.strictObject({
  items: z
    .array(orderItem)
    .min(1, 'must hold at least one item')
    .max(50, 'must hold at most 50 items')
    .refine(
      (items) => new Set(items.map((item) => item.bookId)).size === items.length,
      'must name each book once',
    ),
  /** Repeating a create with the same key returns the first order and creates nothing. */
  idempotencyKey: z.string().trim().min(1, 'must not be empty').max(200),
  /** The customer the order is for; operators set it, customers leave it out (or name themselves). */
  userId: z.uuid('must be a user id').optional(),
  /**
   * The card token to charge. With the sandbox provider, `tok_visa` succeeds and the tokens listed
   * in the README decline.
   * @defaultValue 'tok_visa'
   */
  paymentToken: z.string().trim().min(1).max(100).default('tok_visa'),
});

export const orderIdInput = z.strictObject({ id: z.uuid('must be an order id') });

export const listOrdersInput = z
  .strictObject({
    status: z.enum(ORDER_STATUSES).optional(),
    userId: z.uuid('must be a user id').optional(),
    cursor: z.string().max(500).optional(),
    limit: z.int().min(1).max(100).default(20),
  })
  .default({ limit: 20 });

export interface Order {
  id: string;
  userId: string;
  placedBy: string;
  status: (typeof ORDER_STATUSES)[number];
  totalCents: number;
  failureReason: string | null;
  items: { bookId: string; title: string; quantity: number; unitPriceCents: number }[];
  timeline: { step: string; reason: string | null; at: string }[];
  deadlineAt: string;
  createdAt: string;
  updatedAt: string;
}
