/**
 * The words of a message search, the same for the relay (which turns them into a SQLite FTS5 or
 * a PostgreSQL tsquery) and the page (which marks them in the results). A word is a run of
 * letters, digits and combining marks, after NFKC and lower-casing; everything else separates
 * words and is dropped, so no operator syntax of either database can reach it. Every word is
 * matched as a prefix ("deplo" finds "deployed"), and a message must contain all of them.
 */
import { HARD_LIMITS } from './events.js';

/** A word, for searching: used with `match` and `matchAll` only (it is global, so stateful). */
export const SEARCH_WORD = /[\p{L}\p{N}\p{M}]+/gu;

export function searchTerms(query: string): string[] {
  const words = query.normalize('NFKC').toLowerCase().match(SEARCH_WORD) ?? [];
  const unique = [...new Set(words.map((word) => word.slice(0, HARD_LIMITS.searchTermChars)))];
  return unique.slice(0, HARD_LIMITS.searchTerms);
}
