import { type BinderyClient, createBinderyClient } from '@bindery/client';

/** Where the console reaches the gateway; the browser never talks to it directly. */
export function gatewayUrl(): string {
  const url = process.env.GATEWAY_URL;
  if (!url) throw new Error('GATEWAY_URL must be set to the gateway, such as http://127.0.0.1:4000');
  return url.replace(/\/+$/, '');
}

/** The typed client every Bindery app uses, as the console's server calls the gateway. */
export function serverClient(token?: string | null): BinderyClient {
  return createBinderyClient({ url: gatewayUrl(), token: token ?? null });
}
