import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findMentions } from '../../relay/protocol/mentions.js';
import { findLinks, prepareMentions, tokenizeMessage, type TextToken } from './message-text.js';

const ana = { id: 'u-ana', name: 'Ana' };
const anaLima = { id: 'u-al', name: 'Ana Lima' };
const ben = { id: 'u-ben', name: 'Ben' };
const members = prepareMentions([ana, anaLima, ben]);

function join(tokens: TextToken[]): string {
  return tokens.map((t) => t.text).join('');
}

describe('links', () => {
  it('detects http and https URLs and keeps the rest as text', () => {
    const tokens = tokenizeMessage('see https://example.com/a?b=1#c and http://x.org now');
    expect(tokens).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1#c', href: 'https://example.com/a?b=1#c' },
      { kind: 'text', text: ' and ' },
      { kind: 'link', text: 'http://x.org', href: 'http://x.org/' },
      { kind: 'text', text: ' now' },
    ]);
  });

  it('never links javascript:, data:, ftp: or bare hosts', () => {
    for (const text of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'ftp://files.example.com',
      'example.com',
      'www.example.com',
    ]) {
      expect(tokenizeMessage(text).every((t) => t.kind === 'text')).toBe(true);
    }
  });

  it('does not let a javascript: URL hide behind an http prefix', () => {
    expect(findLinks('xhttp://evil.com')).toEqual([]);
    // Only the http URL becomes the href; the javascript: prefix stays plain text.
    expect(tokenizeMessage('javascript:http://x')).toEqual([
      { kind: 'text', text: 'javascript:' },
      { kind: 'link', text: 'http://x', href: 'http://x/' },
    ]);
    const tokens = tokenizeMessage('http://a.com/javascript:alert(1)');
    expect(tokens[0]).toMatchObject({ kind: 'link', href: 'http://a.com/javascript:alert(1)' });
  });

  it('drops trailing punctuation and unbalanced closing brackets', () => {
    expect(findLinks('Look: https://example.com/path.').map((l) => l[2])).toEqual([
      'https://example.com/path',
    ]);
    expect(findLinks('(see https://example.com/x)').map((l) => l[2])).toEqual([
      'https://example.com/x',
    ]);
    expect(findLinks('https://en.wikipedia.org/wiki/Foo_(bar), ok').map((l) => l[2])).toEqual([
      'https://en.wikipedia.org/wiki/Foo_(bar)',
    ]);
    expect(findLinks('"https://example.com"').map((l) => l[2])).toEqual(['https://example.com/']);
  });

  it('skips text that only looks like a URL', () => {
    expect(findLinks('http://')).toEqual([]);
    expect(findLinks('http://[oops')).toEqual([]);
  });

  it('is case-insensitive on the scheme and links several URLs', () => {
    expect(findLinks('HTTPS://A.COM and https://b.com').map((l) => l[2])).toEqual([
      'https://a.com/',
      'https://b.com/',
    ]);
  });
});

describe('mentions', () => {
  it('highlights @Name case-insensitively and marks the current user', () => {
    const tokens = tokenizeMessage('hi @ben and @ANA!', members, 'u-ana');
    expect(tokens).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'mention', text: '@ben', userIds: ['u-ben'], me: false },
      { kind: 'text', text: ' and ' },
      { kind: 'mention', text: '@ANA', userIds: ['u-ana'], me: true },
      { kind: 'text', text: '!' },
    ]);
  });

  it('highlights the longest name and lists every member it mentions', () => {
    const tokens = tokenizeMessage('@Ana Lima, welcome', members, 'u-ana');
    expect(tokens[0]).toEqual({
      kind: 'mention',
      text: '@Ana Lima',
      userIds: ['u-al', 'u-ana'],
      me: true,
    });
  });

  it('ignores a name that continues with a letter, digit, _ or -', () => {
    for (const text of ['@Anabel', '@Ana2', '@Ana_x', '@Ana-x', '@Ana𠀋']) {
      expect(tokenizeMessage(text, members).some((t) => t.kind === 'mention')).toBe(false);
    }
    expect(tokenizeMessage('@Ana.', members)[0]).toMatchObject({ kind: 'mention', text: '@Ana' });
  });

  it('does not highlight unknown names or a lone @', () => {
    expect(tokenizeMessage('@zed @ and me@', members)).toEqual([
      { kind: 'text', text: '@zed @ and me@' },
    ]);
  });

  it('lets links win over mentions inside them', () => {
    const tokens = tokenizeMessage('https://x.com/@ana @ana', members);
    expect(tokens.map((t) => t.kind)).toEqual(['link', 'text', 'mention']);
  });

  it('agrees with findMentions (the relay notification rule) on text without links', () => {
    const names = ['Ana', 'Ana Lima', 'Bo', 'zoë', 'Ω-team'];
    const users = names.map((name, i) => ({ id: `u${i}`, name }));
    const index = prepareMentions(users);
    const piece = fc.oneof(
      fc.constantFrom(...names.map((n) => `@${n}`), '@', ' ', 'a', '-', '_', '.', 'Lima', '1'),
      fc.constantFrom(...names.map((n) => `@${n.toUpperCase()}`)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const content = pieces.join('');
        const tokens = tokenizeMessage(content, index);
        expect(join(tokens)).toBe(content);
        const highlighted = new Set(tokens.flatMap((t) => (t.kind === 'mention' ? t.userIds : [])));
        expect([...highlighted].sort()).toEqual(findMentions(content, users).sort());
      }),
      { numRuns: 500 },
    );
  });
});

describe('tokenizeMessage', () => {
  it('always concatenates back to the original content', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (content) => {
        expect(join(tokenizeMessage(content, members, 'u-ana'))).toBe(content);
      }),
    );
  });

  it('keeps markup as plain text', () => {
    const content = '<img src=x onerror=alert(1)> <b>bold</b>';
    expect(tokenizeMessage(content, members)).toEqual([{ kind: 'text', text: content }]);
  });
});
