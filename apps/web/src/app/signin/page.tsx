import type { Metadata } from 'next';
import { SignInForm } from './sign-in-form';

export const metadata: Metadata = { title: 'Sign in' };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ callbackUrl?: string; expired?: string }>;
}) {
  const { callbackUrl, expired } = await searchParams;
  return (
    <main id="main" className="signin">
      <div className="signin-card">
        <h1>Bindery console</h1>
        <p className="muted">Sign in with your Bindery account.</p>
        {expired ? (
          <p className="notice" role="status">
            Your session has ended. Sign in again to continue.
          </p>
        ) : null}
        <SignInForm callbackUrl={callbackUrl ?? '/'} />
      </div>
    </main>
  );
}
