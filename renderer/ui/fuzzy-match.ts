/**
 * Small fuzzy matching for the quick switcher and the people picker: the query's characters
 * must appear in order (case-insensitive); prefix, word-start and consecutive matches rank
 * higher. Pure; unit-tested.
 */

/** A score (higher is better), or null when `query` does not match `text`. */
export function fuzzyScore(query: string, text: string): number | null {
  const q = query.trim().toLocaleLowerCase();
  if (q === '') return 0;
  const t = text.toLocaleLowerCase();
  if (t.startsWith(q)) return 1_000 - t.length;
  const at = t.indexOf(q);
  if (at !== -1) return (/[\s\-_#@.]/.test(t[at - 1] ?? ' ') ? 800 : 600) - at - t.length / 100;
  let score = 0;
  let from = 0;
  let streak = 0;
  for (const char of q) {
    const found = t.indexOf(char, from);
    if (found === -1) return null;
    streak = found === from ? streak + 1 : 0;
    const wordStart = found === 0 || /[\s\-_#@.]/.test(t[found - 1] ?? '');
    score += 10 + streak * 5 + (wordStart ? 15 : 0) - (found - from);
    from = found + 1;
  }
  return score;
}

/** Items matching `query`, best first; ties keep their original order. */
export function rankByQuery<T>(items: readonly T[], query: string, text: (item: T) => string): T[] {
  if (query.trim() === '') return [...items];
  return items
    .map((item, index) => ({ item, index, score: fuzzyScore(query, text(item)) }))
    .filter((entry): entry is { item: T; index: number; score: number } => entry.score !== null)
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((entry) => entry.item);
}
