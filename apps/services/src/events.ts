import type { EventEnvelope } from '@bindery/db';

/**
 * The events services tell each other, with their payloads. Types cross service boundaries; code
 * does not: each service writes its own events to its outbox and handles the ones it subscribes to.
 */
export interface EventPayloads {
  'user.created': { userId: string; email: string; name: string };
  'order.created': {
    orderId: string;
    userId: string;
    items: { bookId: string; quantity: number; unitPriceCents: number }[];
    totalCents: number;
    /** The card token to charge, passed on to billing with the reservation. */
    paymentToken: string;
  };
  'stock.reserved': { orderId: string; userId: string; totalCents: number; paymentToken: string };
  'stock.rejected': { orderId: string; reason: string };
  'stock.released': { orderId: string };
  'payment.captured': { orderId: string; paymentId: string; amountCents: number };
  'payment.declined': { orderId: string; paymentId: string; reason: string; declineCode: string };
  'payment.refunded': { orderId: string; paymentId: string; amountCents: number };
  'order.confirmed': { orderId: string; userId: string; totalCents: number };
  'order.failed': { orderId: string; userId: string; reason: string };
  'order.cancelled': { orderId: string; userId: string };
}

export type EventType = keyof EventPayloads;
export type BinderyEvent<TType extends EventType = EventType> = EventEnvelope<TType, EventPayloads[TType]>;

/** The services that consume events, each from its own queue `<service>-events`. */
export const CONSUMERS = ['catalog', 'billing', 'orders', 'notifications'] as const;
export type Consumer = (typeof CONSUMERS)[number];

/** Who hears each event. The relay copies an event into the queue of every consumer listed. */
export const EVENT_ROUTES = {
  'user.created': ['notifications'],
  'order.created': ['catalog'],
  'stock.reserved': ['billing', 'orders'],
  'stock.rejected': ['orders'],
  'stock.released': ['orders'],
  'payment.captured': ['orders'],
  'payment.declined': ['orders'],
  'payment.refunded': ['orders'],
  'order.confirmed': ['notifications'],
  'order.failed': ['catalog', 'billing', 'notifications'],
  'order.cancelled': ['catalog', 'billing', 'notifications'],
} as const satisfies { [TType in EventType]: readonly Consumer[] };

export function eventQueueName(consumer: Consumer): string {
  return `${consumer}-events`;
}

/** The handlers a consumer registers: one per event type it subscribes to. */
export type EventHandlers<TConsumer extends Consumer> = {
  [TType in EventType as TConsumer extends (typeof EVENT_ROUTES)[TType][number] ? TType : never]: (
    event: BinderyEvent<TType>,
  ) => Promise<void>;
};
