import type { AppRouter } from '@bindery/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';

/** TanStack Query options for every procedure of the API, typed by the same AppRouter as every client. */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();
