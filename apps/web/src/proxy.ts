import { NextResponse } from 'next/server';
import { auth } from '@/auth';

/**
 * Every page but the sign-in page needs a session: without one (or once its access token has
 * expired) the operator is sent to sign in and comes back to where they were going.
 */
export default auth((request) => {
  if (request.auth) return NextResponse.next();
  const signIn = new URL('/signin', request.nextUrl.origin);
  const destination = `${request.nextUrl.pathname}${request.nextUrl.search}`;
  if (destination !== '/') signIn.searchParams.set('callbackUrl', destination);
  return NextResponse.redirect(signIn);
});

export const config = {
  // Pages only: not the sign-in page, Auth.js's and the API relay's routes, probes or static files.
  matcher: ['/((?!signin|api/|healthz|_next/|favicon\\.ico|robots\\.txt).*)'],
};
