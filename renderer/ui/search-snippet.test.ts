import { describe, expect, it } from 'vitest';
import { searchTerms } from '../../relay/protocol/search-terms.js';
import { findHits, resultHeading, searchSnippet } from './search-snippet.js';

const marked = (content: string, query: string, maxChars?: number): string => {
  const snippet = searchSnippet(content, searchTerms(query), maxChars);
  const body = snippet.parts.map((p) => (p.hit ? `[${p.text}]` : p.text)).join('');
  return `${snippet.clippedStart ? '…' : ''}${body}${snippet.clippedEnd ? '…' : ''}`;
};

describe('searchSnippet', () => {
  it('marks whole words that start with a term, in any case, accents ignored', () => {
    expect(marked('Deployed the RELEASE; redeploy later', 'deplo release')).toBe(
      '[Deployed] the [RELEASE]; redeploy later',
    );
    expect(marked('Le Café, the cafeteria', 'cafe')).toBe('Le [Café], the [cafeteria]');
    expect(marked('ｆｕｌｌ width', 'full')).toBe('[ｆｕｌｌ] width');
    expect(marked('nothing here', 'zebra')).toBe('nothing here');
  });

  it('keeps markup-looking text as plain text parts', () => {
    const parts = searchSnippet('<b>bold</b> <img src=x onerror=alert(1)>', ['bold']).parts;
    expect(parts).toEqual([
      { text: '<b>', hit: false },
      { text: 'bold', hit: true },
      { text: '</b> <img src=x onerror=alert(1)>', hit: false },
    ]);
  });

  it('cuts a long message around its first match, at spaces, within the limit', () => {
    const before = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    const after = Array.from({ length: 60 }, (_, i) => `z${i}`).join(' ');
    const content = `${before} needle ${after}`;
    const snippet = searchSnippet(content, ['needle'], 80);
    const text = snippet.parts.map((p) => p.text).join('');
    expect(snippet.clippedStart && snippet.clippedEnd).toBe(true);
    expect(text.length).toBeLessThanOrEqual(80);
    expect(snippet.parts.filter((p) => p.hit).map((p) => p.text)).toEqual(['needle']);
    expect(text.startsWith('w')).toBe(true);
    expect(/\s$/.test(text)).toBe(false);
    expect(content.includes(text)).toBe(true);
  });

  it('finds hits by position in the original text', () => {
    expect(findHits('a Release, release!', ['rel'])).toEqual([
      [2, 9],
      [11, 18],
    ]);
    expect(findHits('anything', [])).toEqual([]);
  });
});

describe('resultHeading', () => {
  const dm = { chatKind: 'dm', chatTitle: 'Bo', peerId: 'bo' } as const;

  it('names the other person of a DM once, whoever wrote the message', () => {
    const fromBo = resultHeading({ ...dm, senderId: 'bo', senderName: 'Bo' });
    expect(fromBo).toEqual({ chat: 'Direct message', sender: 'Bo' });
    const fromMe = resultHeading({ ...dm, senderId: 'me', senderName: 'Ana' });
    expect(fromMe).toEqual({ chat: 'Direct message with Bo', sender: 'You' });
    for (const heading of [fromBo, fromMe])
      expect(`${heading.chat} ${heading.sender}`.match(/Bo/g)).toHaveLength(1);
  });

  it('says the room and the author for rooms', () => {
    expect(
      resultHeading({
        chatKind: 'room',
        chatTitle: 'design',
        peerId: null,
        senderId: 'bo',
        senderName: 'Bo',
      }),
    ).toEqual({ chat: 'design', sender: 'Bo' });
  });
});
