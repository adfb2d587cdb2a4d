import { createTestDatabase } from '@bindery/db/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { containsPattern } from '../src/search';

describe('containsPattern', () => {
  test.each([
    ['dune', '%dune%'],
    ['', '%%'],
    ['50%', '%50\\%%'],
    ['snake_case', '%snake\\_case%'],
    ['C:\\path', '%C:\\\\path%'],
    ['%_\\', '%\\%\\_\\\\%'],
    ["O'Brien", "%O'Brien%"],
  ])('%j becomes %j', (text, pattern) => {
    expect(containsPattern(text)).toBe(pattern);
  });
});

describe('containsPattern in a real ILIKE', () => {
  let database: { url: string; drop(): Promise<void> };
  let sql: postgres.Sql;

  beforeAll(async () => {
    database = await createTestDatabase();
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });

  async function matches(value: string, search: string): Promise<boolean> {
    const [row] = await sql<
      { matches: boolean }[]
    >`select ${value}::text ilike ${containsPattern(search)} as matches`;
    return row!.matches;
  }

  test.each([
    ['The Dune Saga', 'dune', true],
    ['The Dune Saga', 'DUNE', true],
    ['Up 50% off', '50%', true],
    ['Up 50 off', '50%', false],
    ['Up 500 off', '50%', false],
    ['snake_case', 'snake_case', true],
    ['snakeXcase', 'snake_case', false],
    ['C:\\path', 'C:\\path', true],
    ['C:path', 'C:\\path', false],
    ['anything', '', true],
  ])('%j contains %j: %s', async (value, search, expected) => {
    expect(await matches(value, search)).toBe(expected);
  });
});
