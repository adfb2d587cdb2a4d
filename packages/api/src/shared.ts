/**
 * The part of `@bindery/api` that also runs in a browser (`@bindery/api/shared`): roles, the
 * password policy and procedure access rules. It imports neither tokens, metrics nor logging, so
 * the console and the services' `schemas.ts` can share it without bundling the server half.
 */
export * from './meta';
export { passwordSchema } from './password-policy';
export * from './roles';
