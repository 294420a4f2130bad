/** Avatar initials and a stable colour slot per user. Pure; unit-tested. */

export const AVATAR_COLORS = 8;

/** "Ana Lima" → "AL", "ben" → "B", "🙂 Zoe" → "🙂Z" (whole code points, never half a pair). */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => Array.from(w)[0] ?? '');
  return letters.join('').toLocaleUpperCase() || '?';
}

/** FNV-1a over the id: the same user gets the same colour on every screen and device. */
export function colorSlot(id: string, slots: number = AVATAR_COLORS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % slots;
}
