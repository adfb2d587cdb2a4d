// In the repository the client is typed by the real router; the build replaces this module's
// declarations with the router's shape printed out in full (see build.mjs).
export type { AppRouter } from '@bindery/services/router';
