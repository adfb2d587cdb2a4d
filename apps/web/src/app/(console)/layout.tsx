import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { currentUser, signOut } from '@/auth';
import { MainNav } from '@/components/main-nav';
import { Providers } from '@/components/providers';

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  if (!user) redirect('/signin');
  return (
    <Providers user={user}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <span className="brand">Bindery</span>
        <MainNav />
        <div className="who">
          <span>
            {user.name} <span className="roles">({user.roles.join(', ')})</span>
          </span>
          <form
            action={async () => {
              'use server';
              await signOut({ redirectTo: '/signin' });
            }}
          >
            <button type="submit" className="button button-quiet">
              Sign out
            </button>
          </form>
        </div>
      </header>
      <main id="main" className="main">
        {children}
      </main>
    </Providers>
  );
}
