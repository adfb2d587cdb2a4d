/**
 * The part of `@bindery/api` that runs in a browser: roles, the password policy and the access
 * rule. next.config.ts resolves `@bindery/api` here (see there why); the files are the package's
 * own, so nothing is duplicated.
 */
export { type Access, isAllowed, type ProcedureInfo } from '../../../../packages/api/src/meta';
export { passwordSchema } from '../../../../packages/api/src/password-policy';
export { ROLES, type Role, STAFF_ROLES } from '../../../../packages/api/src/roles';
