import { getToken } from 'next-auth/jwt';

const SECURE_COOKIE = '__Secure-authjs.session-token';

/**
 * The gateway access token of the session that sent `request`, read from the encrypted session
 * cookie on the server. The browser never holds it: it reaches the gateway only through the
 * console's `/api/trpc` route.
 */
export async function accessTokenOf(request: Request): Promise<string | null> {
  const secret = process.env.AUTH_SECRET;
  if (!secret) throw new Error('AUTH_SECRET must be set');
  const cookies = request.headers.get('cookie') ?? '';
  const token = await getToken({
    req: request,
    secret,
    // Auth.js names the cookie after the scheme the browser used (https: `__Secure-`).
    secureCookie: cookies.includes(SECURE_COOKIE),
  });
  const accessToken = token?.accessToken;
  return typeof accessToken === 'string' ? accessToken : null;
}
