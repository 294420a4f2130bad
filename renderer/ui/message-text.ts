/**
 * Splits a message into text, links and @mentions, for rendering as React text nodes (never as
 * HTML). Pure and DOM-free; unit-tested.
 *
 * - Links: `http://` and `https://` URLs only (never `javascript:`, `data:` or anything else),
 *   not glued to a preceding letter or digit, without trailing punctuation or an unbalanced
 *   closing bracket, and only when `URL` parses them. The href is the parsed URL.
 * - Mentions: the rule of `findMentions` in relay/protocol/mentions.ts — `@Name`,
 *   case-insensitive, not followed by a letter, digit, `_` or `-` — so what is highlighted is
 *   what notified. At one `@` the longest matching name is highlighted; every member whose name
 *   matches there is listed (`@Ana Lima` also mentions `Ana`, as the relay sees it).
 *   Mentions inside a link are not highlighted: the link wins.
 */

export type TextToken =
  | { kind: 'text'; text: string }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'mention'; text: string; userIds: string[]; me: boolean };

/** Members whose names can be mentioned, prepared once per member list. */
export interface MentionIndex {
  readonly members: readonly { id: string; lower: string; length: number }[];
}

/** Same class as relay/protocol/mentions.ts: a character that would continue a name. */
const NAME_CONTINUES = /[\p{L}\p{N}_-]/u;
const URL_CANDIDATE = /https?:\/\/[^\s<>"'`]+/giu;
const TRAILING_PUNCTUATION = new Set(['.', ',', ';', ':', '!', '?', '…', '*', '_', '~']);
const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

export function prepareMentions(members: Iterable<{ id: string; name: string }>): MentionIndex {
  const prepared = [...members]
    .filter((m) => m.name.length > 0)
    .map((m) => ({ id: m.id, lower: m.name.toLocaleLowerCase('en'), length: m.name.length }))
    // Longest first, so the highlighted span is the longest name at that '@'.
    .sort((a, b) => b.length - a.length);
  return { members: prepared };
}

export const NO_MENTIONS: MentionIndex = { members: [] };

function count(text: string, char: string): number {
  let n = 0;
  for (const c of text) if (c === char) n += 1;
  return n;
}

/** Drops trailing punctuation and closing brackets that the URL did not open. */
function trimUrl(candidate: string): string {
  let url = candidate;
  for (;;) {
    const last = url.at(-1);
    if (last === undefined) return url;
    const opener = CLOSERS[last];
    if (TRAILING_PUNCTUATION.has(last)) url = url.slice(0, -1);
    else if (opener !== undefined && count(url, last) > count(url, opener)) url = url.slice(0, -1);
    else return url;
  }
}

function safeHref(text: string): string | null {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    if (url.hostname === '') return null;
    return url.href;
  } catch {
    // Not a URL after all (say "http://[oops"): it stays plain text.
    return null;
  }
}

/** Finds http(s) links: [start, end, href] triples in order. */
export function findLinks(content: string): [number, number, string][] {
  const links: [number, number, string][] = [];
  for (const match of content.matchAll(URL_CANDIDATE)) {
    const start = match.index;
    const before = start > 0 ? content.codePointAt(start - 1) : undefined;
    // "xhttp://..." is not a link start; "(http://...)" and "<http://...>" are.
    if (before !== undefined && /[\p{L}\p{N}_]/u.test(String.fromCodePoint(before))) continue;
    const text = trimUrl(match[0]);
    const href = safeHref(text);
    if (href === null) continue;
    links.push([start, start + text.length, href]);
  }
  return links;
}

function mentionsIn(
  text: string,
  index: MentionIndex,
  myId: string | null,
  out: TextToken[],
): void {
  let plainFrom = 0;
  let at = text.indexOf('@');
  while (at !== -1) {
    let span = 0;
    const userIds: string[] = [];
    for (const member of index.members) {
      const end = at + 1 + member.length;
      if (end > text.length) continue;
      if (text.slice(at + 1, end).toLocaleLowerCase('en') !== member.lower) continue;
      const next = text.codePointAt(end);
      if (next !== undefined && NAME_CONTINUES.test(String.fromCodePoint(next))) continue;
      userIds.push(member.id);
      span = Math.max(span, member.length);
    }
    if (userIds.length === 0) {
      at = text.indexOf('@', at + 1);
      continue;
    }
    if (at > plainFrom) out.push({ kind: 'text', text: text.slice(plainFrom, at) });
    const end = at + 1 + span;
    out.push({
      kind: 'mention',
      text: text.slice(at, end),
      userIds,
      me: myId !== null && userIds.includes(myId),
    });
    plainFrom = end;
    at = text.indexOf('@', end);
  }
  if (plainFrom < text.length) out.push({ kind: 'text', text: text.slice(plainFrom) });
}

/** Tokens that concatenate back to `content` exactly. */
export function tokenizeMessage(
  content: string,
  mentions: MentionIndex = NO_MENTIONS,
  myId: string | null = null,
): TextToken[] {
  const tokens: TextToken[] = [];
  let from = 0;
  for (const [start, end, href] of findLinks(content)) {
    if (start > from) mentionsIn(content.slice(from, start), mentions, myId, tokens);
    tokens.push({ kind: 'link', text: content.slice(start, end), href });
    from = end;
  }
  if (from < content.length) mentionsIn(content.slice(from), mentions, myId, tokens);
  return tokens;
}
