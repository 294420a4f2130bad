import { describe, expect, it } from 'vitest';
import { HARD_LIMITS } from './events.js';
import { searchTerms } from './search-terms.js';

describe('searchTerms', () => {
  it('splits on everything but letters, digits and marks, lower-cased after NFKC', () => {
    expect(searchTerms('Release v2.4: DEPLOY-notes!')).toEqual([
      'release',
      'v2',
      '4',
      'deploy',
      'notes',
    ]);
    expect(searchTerms('ｆｕｌｌｗｉｄｔｈ Ⅻ')).toEqual(['fullwidth', 'xii']);
    expect(searchTerms('Café नमस्ते 会議室')).toEqual(['café', 'नमस्ते', '会議室']);
  });

  it('keeps no database syntax: quotes, stars, parentheses, colons and operators are gone', () => {
    expect(searchTerms('"a"* OR (b:*) & !c | d\' -- NEAR(e)')).toEqual([
      'a',
      'or',
      'b',
      'c',
      'd',
      'near',
      'e',
    ]);
    expect(searchTerms('" * ( ) - ^ \'')).toEqual([]);
    expect(searchTerms('')).toEqual([]);
  });

  it('drops repeats and bounds the number and length of words', () => {
    expect(searchTerms('Budget budget BUDGET')).toEqual(['budget']);
    const many = Array.from({ length: 20 }, (_, index) => `w${index}`).join(' ');
    expect(searchTerms(many)).toHaveLength(HARD_LIMITS.searchTerms);
    const [long] = searchTerms('x'.repeat(500));
    expect(long).toHaveLength(HARD_LIMITS.searchTermChars);
  });
});
