import type { ErrorData, ProcedureMeta } from '@bindery/api';
import type { TRPCBuiltRouter } from '@trpc/server';
import type { AuthRouter } from './auth/router';
import type { BillingRouter } from './billing/router';
import type { CatalogRouter } from './catalog/router';
import type { SystemRouter } from './gateway/system-router';
import type { NotificationsRouter } from './notifications/router';
import type { OrdersRouter } from './orders/router';
import type { UsersRouter } from './users/router';

/**
 * The type of the whole API as the gateway serves it: every service router under its namespace.
 * Type-only: no service imports another's code, and clients get types without any server code.
 */
export type AppRouter = TRPCBuiltRouter<
  {
    ctx: object;
    meta: ProcedureMeta;
    errorShape: { code: number; message: string; data: ErrorData };
    transformer: false;
  },
  UsersRouter['_def']['record'] &
    AuthRouter['_def']['record'] &
    CatalogRouter['_def']['record'] &
    OrdersRouter['_def']['record'] &
    BillingRouter['_def']['record'] &
    NotificationsRouter['_def']['record'] &
    SystemRouter['_def']['record']
>;
