/**
 * A search result's text as the results list shows it: an excerpt of at most `maxChars`
 * characters around the first match, cut at word boundaries, with every word that matches a
 * search term marked. Matching mirrors the relay's (relay/protocol/search-terms.ts): a word of
 * the message matches when, after NFKC and lower-casing, it starts with a term; accents are
 * ignored, as on SQLite. The whole word is marked. Pure and DOM-free; the parts are rendered as
 * React text, never HTML.
 */
import { SEARCH_WORD } from '../../relay/protocol/search-terms.js';

export interface SnippetPart {
  text: string;
  hit: boolean;
}

export interface Snippet {
  parts: SnippetPart[];
  /** Text was cut before / after the excerpt (the list shows an ellipsis). */
  clippedStart: boolean;
  clippedEnd: boolean;
}

function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
}

/** [start, end) of every word of `content` that starts with one of the terms. */
export function findHits(content: string, terms: readonly string[]): [number, number][] {
  const folded = terms.map(fold).filter((term) => term.length > 0);
  if (folded.length === 0) return [];
  const hits: [number, number][] = [];
  for (const match of content.matchAll(SEARCH_WORD)) {
    const word = fold(match[0]);
    if (folded.some((term) => word.startsWith(term)))
      hits.push([match.index, match.index + match[0].length]);
  }
  return hits;
}

export function searchSnippet(content: string, terms: readonly string[], maxChars = 240): Snippet {
  const hits = findHits(content, terms);
  let start = 0;
  let end = content.length;
  if (content.length > maxChars) {
    // Keep some text before the first match so it reads in context.
    const first = hits[0]?.[0] ?? 0;
    start = Math.max(0, Math.min(first - Math.floor(maxChars / 4), content.length - maxChars));
    end = start + maxChars;
    if (start > 0) {
      const space = content.indexOf(' ', start);
      if (space !== -1 && space < first) start = space + 1;
    }
    if (end < content.length) {
      const space = content.lastIndexOf(' ', end);
      if (space > start && space > (hits[0]?.[1] ?? 0)) end = space;
    }
  }
  const parts: SnippetPart[] = [];
  let at = start;
  for (const [from, to] of hits) {
    if (to <= start || from >= end) continue;
    const hitStart = Math.max(from, start);
    const hitEnd = Math.min(to, end);
    if (hitStart > at) parts.push({ text: content.slice(at, hitStart), hit: false });
    parts.push({ text: content.slice(hitStart, hitEnd), hit: true });
    at = hitEnd;
  }
  if (at < end) parts.push({ text: content.slice(at, end), hit: false });
  return { parts, clippedStart: start > 0, clippedEnd: end < content.length };
}

/** The two labels above a search result: where it was posted and who wrote it. */
export interface ResultHeading {
  chat: string;
  sender: string;
}

/**
 * A DM is named after the other person, who is also the author of half its messages: their
 * name is said once. Their messages read "Direct message · Bo"; one's own "Direct message with
 * Bo · You". Rooms say the room and the author.
 */
export function resultHeading(input: {
  chatKind: 'room' | 'dm';
  chatTitle: string;
  peerId: string | null;
  senderId: string;
  senderName: string;
}): ResultHeading {
  if (input.chatKind === 'room') return { chat: input.chatTitle, sender: input.senderName };
  if (input.senderId === input.peerId) return { chat: 'Direct message', sender: input.senderName };
  return { chat: `Direct message with ${input.chatTitle}`, sender: 'You' };
}
