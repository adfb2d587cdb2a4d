import { describe, expect, expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { ConfigError, optionalUrl, parseEnv, port } from '../src/env';

const shape = {
  HOST: z.string().default('127.0.0.1'),
  PORT: port(4000),
  DATABASE_URL: optionalUrl(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
};

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but parsing passed');
}

describe('parseEnv', () => {
  test('applies the defaults when nothing is set', () => {
    expect(parseEnv(shape, {})).toEqual({
      HOST: '127.0.0.1',
      PORT: 4000,
      DATABASE_URL: undefined,
      LOG_LEVEL: 'info',
    });
  });

  test('coerces a port from its text and keeps the values given', () => {
    expect(
      parseEnv(shape, {
        HOST: '0.0.0.0',
        PORT: '8080',
        DATABASE_URL: 'postgres://db:5432/x',
        LOG_LEVEL: 'warn',
      }),
    ).toEqual({ HOST: '0.0.0.0', PORT: 8080, DATABASE_URL: 'postgres://db:5432/x', LOG_LEVEL: 'warn' });
  });

  test('ignores variables the shape does not name', () => {
    expect(parseEnv({ PORT: port(1) }, { PORT: '2', PATH: '/usr/bin', HOME: '/root' })).toEqual({ PORT: 2 });
  });

  test('reads process.env when no env is given', () => {
    expect(parseEnv({ LOG_LEVEL: z.string() })).toEqual({ LOG_LEVEL: process.env.LOG_LEVEL });
  });

  test('infers the parsed types', () => {
    const config = parseEnv(shape, {});
    expectTypeOf(config.PORT).toEqualTypeOf<number>();
    expectTypeOf(config.HOST).toEqualTypeOf<string>();
    expectTypeOf(config.DATABASE_URL).toEqualTypeOf<string | undefined>();
    expectTypeOf(config.LOG_LEVEL).toEqualTypeOf<'debug' | 'info' | 'warn' | 'error'>();
  });

  test('a wrong variable is a ConfigError naming it and its rule', () => {
    const error = configErrorOf(() => parseEnv(shape, { PORT: 'eighty' }));
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatchInlineSnapshot(`
      "Invalid configuration:
        PORT: Invalid input: expected number, received NaN"
    `);
  });

  test('every wrong variable is listed, each on its own line', () => {
    const error = configErrorOf(() =>
      parseEnv(shape, { PORT: '70000', DATABASE_URL: 'not a url', LOG_LEVEL: 'loud' }),
    );
    expect(error.message).toMatchInlineSnapshot(`
      "Invalid configuration:
        PORT: Too big: expected number to be <=65535
        DATABASE_URL: Invalid URL
        LOG_LEVEL: Invalid option: expected one of "debug"|"info"|"warn"|"error""
    `);
  });

  test('a missing required variable is named', () => {
    const error = configErrorOf(() => parseEnv({ REDIS_URL: z.string() }, {}));
    expect(error.message).toMatchInlineSnapshot(`
      "Invalid configuration:
        REDIS_URL: Invalid input: expected string, received undefined"
    `);
  });
});

describe('port', () => {
  const parsePort = (value: string | undefined) => parseEnv({ PORT: port(3000) }, { PORT: value }).PORT;

  test.each([
    ['0', 0],
    ['1', 1],
    ['65535', 65535],
    [' 8080 ', 8080],
    [undefined, 3000],
  ])('%j is port %i', (value, expected) => {
    expect(parsePort(value)).toBe(expected);
  });

  test('an empty variable counts as unset and takes the default, not port 0 (regression)', () => {
    expect(parsePort('')).toBe(3000);
  });

  test.each(['-1', '65536', '80.5', 'http', '0x'])('%j is refused', (value) => {
    expect(configErrorOf(() => parsePort(value)).message).toMatch(/^Invalid configuration:\n {2}PORT: /);
  });
});

describe('optionalUrl', () => {
  const parseUrl = (value: string | undefined) => parseEnv({ URL: optionalUrl() }, { URL: value }).URL;

  test('an empty or absent variable is undefined', () => {
    expect(parseUrl('')).toBeUndefined();
    expect(parseUrl(undefined)).toBeUndefined();
  });

  test('a URL is kept as written', () => {
    expect(parseUrl('redis://127.0.0.1:6379/2')).toBe('redis://127.0.0.1:6379/2');
  });

  test.each(['127.0.0.1:5432', 'not a url', '/var/run/db'])('%j is refused', (value) => {
    expect(configErrorOf(() => parseUrl(value)).message).toBe('Invalid configuration:\n  URL: Invalid URL');
  });
});
