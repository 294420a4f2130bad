/**
 * When two names count as the same: display names on this relay, and public rooms' names. Two
 * names clash when their keys are equal; the key is the UTS #39 confusable skeleton
 * (https://www.unicode.org/reports/tr39/#Confusable_Detection) of the name after NFKC and case
 * folding, folded again (the skeleton's prototypes include capitals: "0" becomes "O") and with
 * runs of white space as one space. So "Alice" clashes with "alice", "Аlice" (Cyrillic А),
 * "Alice\uFE0F" (a variation selector) and "ΑLICE"; "rn" with "m"; "b0b" with "bob".
 *
 * The confusables table is Unicode's confusables.txt as the npm package `unhomoglyph` ships it
 * (data.json: every source character to its prototype, generated from the official file, Unicode
 * 13.0.0); the skeleton steps follow UTS #39 revision 28: NFD, remove default-ignorable code
 * points, replace each code point by its prototype, NFD. NFD and the default-ignorable property
 * come from the JavaScript engine's own Unicode tables.
 *
 * Limitation: case folding comes first (names have always been case-insensitive), so a capital
 * I standing for a lowercase l ("AIice" for "Alice") is not caught: it folds to "aiice".
 * The keys are never shown; they are stored (users.name_skeleton, chats.name_skeleton) and
 * compared.
 */
import { createRequire } from 'node:module';
import { z } from 'zod';
import { normalizeName } from '../protocol/display-name.js';

const require = createRequire(import.meta.url);
const PROTOTYPES: ReadonlyMap<string, string> = new Map(
  Object.entries(z.record(z.string(), z.string()).parse(require('unhomoglyph/data.json'))),
);

/**
 * The version of the key function; stored with the keys (meta `name_skeleton_version`) so that
 * a relay with another table recomputes them at start.
 */
export const NAME_KEY_VERSION = 'uts39-r28/unhomoglyph-1.0.6/1';

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const SPACES = /\s+/gu;

/** UTS #39 skeleton: NFD, without default-ignorables, each code point by its prototype, NFD. */
export function skeleton(text: string): string {
  const decomposed = text.normalize('NFD').replace(IGNORABLE, '');
  let mapped = '';
  for (const char of decomposed) mapped += PROTOTYPES.get(char) ?? char;
  return mapped.normalize('NFD');
}

/** Full case folding, near enough: upper then lower case ("ß" → "SS" → "ss", "ς" → "σ"). */
function fold(text: string): string {
  return text.toUpperCase().toLowerCase();
}

/** The key two names clash on (see the file comment). */
export function nameSkeleton(name: string): string {
  return fold(skeleton(fold(normalizeName(name))))
    .replace(SPACES, ' ')
    .trim();
}

export interface NamedRow {
  id: string;
  name: string;
}

/**
 * Keys for names that were stored before keys existed (a migration's backfill), oldest first:
 * the first of several clashing names gets the key, the later ones none (null). Both keep their
 * names; no new name may take that key.
 */
export function backfillSkeletons(oldestFirst: readonly NamedRow[]): Map<string, string | null> {
  const taken = new Set<string>();
  const keys = new Map<string, string | null>();
  for (const row of oldestFirst) {
    const key = nameSkeleton(row.name);
    keys.set(row.id, taken.has(key) ? null : key);
    taken.add(key);
  }
  return keys;
}

/** A public room's name clashes with another public room's (thrown by Store.createChat). */
export class RoomNameTakenError extends Error {
  readonly code = 'name_taken';

  constructor(name: string) {
    super(`a public room named like "${name}" exists`);
    this.name = 'RoomNameTakenError';
  }
}

/** The key exact names (and users signing in by name) are matched on: NFKC, trimmed, lower case. */
export function nameKey(name: string): string {
  return name.normalize('NFKC').trim().toLocaleLowerCase('en');
}

/** The one key of the DM between two users, whichever opens it. */
export function dmKey(userA: string, userB: string): string {
  return [userA, userB].sort().join('|');
}
