#!/usr/bin/env node
// Prints a fresh set of production keys as environment variables, for a secret store or an .env
// file that never enters the repository.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const pem = (key, type) => key.export({ format: 'pem', type }).toString().trim();
console.log(`INTERNAL_TOKEN_SECRET=${randomBytes(48).toString('base64')}`);
console.log(`AUTH_PRIVATE_KEY="${pem(privateKey, 'pkcs8')}"`);
console.log(`AUTH_PUBLIC_KEY="${pem(publicKey, 'spki')}"`);
