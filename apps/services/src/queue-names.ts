import { CONSUMERS, eventQueueName } from './events';

/** Every BullMQ queue of the platform, as `system.queues` reports them. */
export const QUEUE_NAMES = [
  ...CONSUMERS.map(eventQueueName),
  /** The order deadline sweep (a repeatable job). */
  'orders-maintenance',
  /** CSV imports of books. */
  'catalog-imports',
] as const;
