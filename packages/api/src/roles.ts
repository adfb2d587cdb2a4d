/** Roles a user can hold, from most to least privileged. */
export const ROLES = ['admin', 'operator', 'viewer', 'customer'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that belong to the shop's staff (everyone who uses the console). */
export const STAFF_ROLES = ['admin', 'operator', 'viewer'] as const satisfies readonly Role[];

/** The names of the processes that make up Bindery; internal tokens are addressed to one of them. */
export const SERVICE_NAMES = [
  'gateway',
  'users',
  'auth',
  'catalog',
  'orders',
  'billing',
  'notifications',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The user a call acts for, as the gateway authenticated it. */
export interface UserIdentity {
  id: string;
  roles: readonly Role[];
  /** Set when the caller authenticated with an API token rather than a login. */
  apiTokenId?: string;
}

/**
 * Who is calling a service: always the peer process that sent the request (the gateway or another
 * service), and the user it acts for when there is one.
 */
export interface Caller {
  peer: ServiceName;
  /**
   * True when the gateway relays a client's call as it came; false when the peer makes the call
   * itself (a service-to-service call). Service-only procedures accept only the latter.
   */
  relayed: boolean;
  user: UserIdentity | null;
  /** The end client's address as the gateway saw it. */
  ip: string | null;
}
