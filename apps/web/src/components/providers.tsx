'use client';

import { isAllowed } from '@bindery/api/shared';
import { createBinderyClient, isBinderyError } from '@bindery/client';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useState } from 'react';
import type { ConsoleUser } from '@/auth';
import { TRPCProvider, useTRPC } from '@/lib/trpc';

const UserContext = createContext<ConsoleUser | null>(null);

/** Sends the operator to sign in again once the gateway no longer takes the session's token. */
function onApiError(error: unknown) {
  if (isBinderyError(error) && error.data?.code === 'UNAUTHORIZED' && typeof window !== 'undefined') {
    const back = `${window.location.pathname}${window.location.search}`;
    window.location.assign(`/signin?expired=1&callbackUrl=${encodeURIComponent(back)}`);
  }
}

/**
 * The console's data layer: TanStack Query over the typed Bindery client. The client calls the
 * console's own `/api/trpc` route, which adds the session's access token and relays to the gateway.
 */
export function Providers({ user, children }: { user: ConsoleUser; children: ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        queryCache: new QueryCache({ onError: onApiError }),
        mutationCache: new MutationCache({ onError: onApiError }),
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            retry: (failures, error) =>
              failures < 2 && !(isBinderyError(error) && (error.data?.httpStatus ?? 500) < 500),
          },
        },
      }),
  );
  const [binderyClient] = useState(() => createBinderyClient({ url: '/api' }));
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={binderyClient} queryClient={queryClient}>
        <UserContext.Provider value={user}>{children}</UserContext.Provider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}

export function useUser(): ConsoleUser {
  const user = useContext(UserContext);
  if (!user) throw new Error('useUser needs <Providers>');
  return user;
}

/**
 * Whether the signed-in operator may call a procedure, decided from the rules the gateway publishes
 * (`system.procedures`) with the same `isAllowed` the services enforce. Until the rules arrive,
 * nothing is allowed: a control appears only once it is known to work.
 */
export function useCan(): (path: string) => boolean {
  const trpc = useTRPC();
  const user = useUser();
  const procedures = useQuery(trpc.system.procedures.queryOptions(undefined, { staleTime: 5 * 60_000 }));
  return useCallback(
    (path: string) => {
      const access = procedures.data?.find((procedure) => procedure.path === path)?.access;
      return access
        ? isAllowed(access, { user: { roles: user.roles }, peer: 'gateway', relayed: true })
        : false;
    },
    [procedures.data, user.roles],
  );
}
