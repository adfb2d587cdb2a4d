'use server';

import { AuthError } from 'next-auth';
import { signIn } from '@/auth';

export interface SignInState {
  error: string | null;
}

const MESSAGES: Record<string, string> = {
  wrong: 'Email or password is wrong.',
  disabled: 'This account is disabled.',
  limited: 'Too many failed sign-ins. Wait a few minutes and try again.',
  'not-staff': 'The console is for staff (admins, operators and viewers).',
  unavailable: 'The platform cannot be reached right now. Try again shortly.',
};

/** Only paths of this console: never an absolute URL handed in by a link. */
function safeDestination(value: FormDataEntryValue | null): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}

export async function signInWithPassword(_previous: SignInState, form: FormData): Promise<SignInState> {
  try {
    await signIn('credentials', {
      email: form.get('email'),
      password: form.get('password'),
      redirectTo: safeDestination(form.get('callbackUrl')),
    });
    return { error: null };
  } catch (error) {
    // A successful sign-in ends with a redirect, thrown for Next.js to follow.
    if (!(error instanceof AuthError)) throw error;
    const code = 'code' in error && typeof error.code === 'string' ? error.code : 'wrong';
    return { error: MESSAGES[code] ?? MESSAGES.wrong! };
  }
}
