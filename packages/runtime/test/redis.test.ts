import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedis } from '../src/redis';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bindery-test:${randomBytes(6).toString('hex')}:`;

describe('createRedis against the real Redis', () => {
  let prefixed: Redis;
  let raw: Redis;

  beforeAll(() => {
    prefixed = createRedis(url, { keyPrefix: prefix, name: 'bindery-redis-test' });
    raw = createRedis(url);
  });
  afterAll(async () => {
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    await prefixed.quit();
    await raw.quit();
  });

  test('connects and answers', async () => {
    expect(await prefixed.ping()).toBe('PONG');
  });

  test('keyPrefix puts every key under the prefix, invisible to the code using it', async () => {
    await prefixed.set('greeting', 'hello');
    expect(await prefixed.get('greeting')).toBe('hello');
    expect(await raw.get(`${prefix}greeting`)).toBe('hello');
    expect(await raw.get('greeting')).not.toBe('hello');
  });

  test('names its connection, so CLIENT LIST shows who holds it', async () => {
    expect(await prefixed.client('GETNAME')).toBe('bindery-redis-test');
    expect(await raw.client('GETNAME')).toBe('bindery');
  });

  test('commands wait for a reconnect rather than failing after a few tries (as BullMQ needs)', () => {
    expect(prefixed.options.maxRetriesPerRequest).toBeNull();
    expect(prefixed.options.keyPrefix).toBe(prefix);
    expect(raw.options.keyPrefix).toBe('');
  });
});
