/** The known word closest to a mistyped one, for "did you mean" hints in usage errors. */

/** Edit distance (insertions, deletions, substitutions; a swap of neighbours counts one). */
export function editDistance(a: string, b: string): number {
  // Optimal string alignment: Levenshtein plus adjacent transpositions ("--prot" for "--port").
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i += 1) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j += 1) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const previous = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? Math.max(a.length, b.length);
}

/**
 * The candidate nearest to `word`, if it is near enough to be a typo: at most 2 edits, and
 * fewer than half the word's letters (`--frob` suggests `--from`, never an unrelated flag).
 * Ties go to the candidate listed first.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | null {
  let best: { candidate: string; distance: number } | null = null;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (best === null || distance < best.distance) best = { candidate, distance };
  }
  if (best === null) return null;
  const bare = word.replace(/^-+/, '');
  return best.distance <= 2 && best.distance * 2 < bare.length ? best.candidate : null;
}
