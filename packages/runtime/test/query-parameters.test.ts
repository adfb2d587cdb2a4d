import fc from 'fast-check';
import { expect, test } from 'vitest';
import { queryParameters } from '../src/trpc-node-adapter';

const piece = fc.constantFrom(
  ...'abBI019-_.~,&=+ %é'.split(''),
  'batch',
  'input',
  'inp%75t',
  '%7B',
  '%22',
  '%E2%82%AC',
  '%FF',
  '%E0%A4%A',
  '%',
  '%2',
  '1',
);

test('batch and input are read as URLSearchParams reads them, for any query', () => {
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
      const query = pieces.join('');
      const expected = new URLSearchParams(query);
      expect(queryParameters(query)).toEqual({ batch: expected.get('batch'), input: expected.get('input') });
    }),
    { numRuns: 5_000 },
  );
});
