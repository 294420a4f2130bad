import { describe, expect, it } from 'vitest';
import { fuzzyScore, rankByQuery } from './fuzzy-match.js';

describe('fuzzyScore', () => {
  it('matches characters in order, case-insensitively', () => {
    expect(fuzzyScore('gnrl', 'general')).not.toBeNull();
    expect(fuzzyScore('GEN', 'general')).not.toBeNull();
    expect(fuzzyScore('lrg', 'general')).toBeNull();
  });

  it('ranks prefixes over word starts over inner substrings over scattered letters', () => {
    const prefix = fuzzyScore('des', 'design') ?? 0;
    const word = fuzzyScore('des', 'ux design') ?? 0;
    const inner = fuzzyScore('sig', 'design') ?? 0;
    const scattered = fuzzyScore('dsn', 'design') ?? 0;
    expect(prefix).toBeGreaterThan(word);
    expect(word).toBeGreaterThan(inner);
    expect(inner).toBeGreaterThan(scattered);
  });
});

describe('rankByQuery', () => {
  const chats = ['general', 'random', 'design-team', 'Ana Lima', 'dev'];

  it('keeps the original order for an empty query', () => {
    expect(rankByQuery(chats, '  ', (c) => c)).toEqual(chats);
  });

  it('filters and sorts by score', () => {
    expect(rankByQuery(chats, 'de', (c) => c)).toEqual(['dev', 'design-team']);
    expect(rankByQuery(chats, 'lima', (c) => c)).toEqual(['Ana Lima']);
    expect(rankByQuery(chats, 'zzz', (c) => c)).toEqual([]);
  });
});
