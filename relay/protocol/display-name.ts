/**
 * What a display name and a room name may be (relay/PROTOCOL.md, "Identity"), shared by the relay
 * (sign-up, room creation) and the page (the sign-in form), so both refuse the same names.
 *
 * - **Display names**: after NFKC and trimming, 1–64 characters; no control, format, private-use,
 *   unassigned or surrogate characters (`\p{C}`: NUL, ESC, bidi overrides, zero-width spaces and
 *   joiners), no line or paragraph separators, no invisible characters (default-ignorable code
 *   points other than variation selectors: the combining grapheme joiner, Hangul fillers,
 *   Mongolian and Khmer invisibles) nor the blank-looking Braille pattern U+2800; and at least one
 *   letter, digit, punctuation mark or symbol.
 * - **Room names**: the same rule at up to 80 characters: the one `parley://` invites already
 *   used for a room's label (room-name.ts), made stricter.
 *
 * Uniqueness (which names count as the same) is the relay's: relay/core/name-key.ts.
 */
import { HARD_LIMITS } from './events.js';

/**
 * Characters that show nothing or look blank, which no name may hold: default-ignorable code
 * points (except variation selectors, which emoji need and which name keys drop), line and
 * paragraph separators, and U+2800 BRAILLE PATTERN BLANK (a letter-like symbol that draws
 * nothing). Everything in `\p{C}` is refused separately.
 */
const INVISIBLE =
  /(?![\uFE00-\uFE0F\u{E0100}-\u{E01EF}])[\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}\u2800]/u;
const CONTROL = /\p{C}/u;
/** Something one can see: a letter, a digit, a punctuation mark or a symbol. */
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;

/** A name as the relay stores it: NFKC, trimmed. */
export function normalizeName(input: string): string {
  return input.normalize('NFKC').trim();
}

function isName(name: string, maxChars: number): boolean {
  const length = [...name].length;
  return (
    length >= 1 &&
    length <= maxChars &&
    name.trim() === name &&
    !CONTROL.test(name) &&
    !INVISIBLE.test(name) &&
    VISIBLE.test(name)
  );
}

/** Whether `name` (already {@link normalizeName}d) is a valid display name. */
export function isDisplayName(name: string): boolean {
  return isName(name, HARD_LIMITS.nameChars);
}

/** Whether `name` (already {@link normalizeName}d) is a valid room name. */
export function isRoomName(name: string): boolean {
  return isName(name, HARD_LIMITS.chatNameChars);
}
