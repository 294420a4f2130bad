import { describe, expect, it } from 'vitest';
import { findMentions } from './mentions.js';
import type { StoredUser } from './store.js';

function member(id: string, name: string): StoredUser {
  return { id, name, created_at: '2030-01-01T00:00:00.000Z' };
}

const ANA = member('u-ana', 'Ana');
const BEN = member('u-ben', 'Ben');
const ANA_LIMA = member('u-lima', 'Ana Lima');
const JOAO = member('u-joao', 'João');

describe('findMentions', () => {
  it('finds nobody in text without an @', () => {
    expect(findMentions('Ana and Ben', [ANA, BEN])).toEqual([]);
  });

  it('finds a member by @name, case-insensitively', () => {
    expect(findMentions('hi @ana', [ANA, BEN])).toEqual(['u-ana']);
    expect(findMentions('@BEN look', [ANA, BEN])).toEqual(['u-ben']);
  });

  it('finds several members, each once, in member order', () => {
    expect(findMentions('@Ben @Ana @ben again', [ANA, BEN])).toEqual(['u-ana', 'u-ben']);
  });

  it('accepts punctuation and the end of the text after a name', () => {
    for (const text of ['@Ana', '@Ana, hi', '@Ana: hi', '(@Ana)', '@Ana!', '@Ana\nnext line']) {
      expect(findMentions(text, [ANA]), text).toEqual(['u-ana']);
    }
  });

  it('ignores a name that continues with letters, digits, _ or -', () => {
    for (const text of ['@Anabel', '@Ana2', '@Ana_b', '@Ana-Maria', '@Anaé']) {
      expect(findMentions(text, [ANA]), text).toEqual([]);
    }
  });

  it('keeps looking after a non-matching occurrence', () => {
    expect(findMentions('@Anabel and @Ana', [ANA])).toEqual(['u-ana']);
  });

  it('matches names with spaces and non-ASCII letters', () => {
    expect(findMentions('ping @ana lima please', [ANA_LIMA])).toEqual(['u-lima']);
    expect(findMentions('olá @JOÃO!', [JOAO])).toEqual(['u-joao']);
    expect(findMentions('@Ana Limao', [ANA_LIMA])).toEqual([]);
  });

  it('treats a letter outside the BMP as continuing the name', () => {
    const wang = member('u-wang', '王');
    const wangLong = member('u-wang-long', '王𠀋');
    expect(findMentions('@王𠀋 hi', [wang, wangLong])).toEqual(['u-wang-long']);
    expect(findMentions('@王 hi', [wang, wangLong])).toEqual(['u-wang']);
    expect(findMentions('@Ana😀', [ANA])).toEqual(['u-ana']);
  });

  it('needs the @ right before the name', () => {
    expect(findMentions('@ Ana', [ANA])).toEqual([]);
    expect(findMentions('Ana@', [ANA])).toEqual([]);
  });

  it('accepts any iterable of members', () => {
    const members = new Map([[ANA.id, ANA]]);
    expect(findMentions('@ana', members.values())).toEqual(['u-ana']);
  });
});
