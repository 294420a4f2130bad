/**
 * The two codes that let a user back into their name without a device of theirs that is signed
 * in, and the wire shapes that carry them (relay/PROTOCOL.md, "Identity"):
 *
 * - a **recovery code**: 24 characters of Crockford base32 (120 random bits), shown once at
 *   sign-up and again whenever it is regenerated or used (a use replaces it);
 * - a **device-link code**: 8 characters (40 random bits) that a signed-in device asks for; it
 *   works once, for its own user, within minutes.
 *
 * Both use Crockford's alphabet (no I, L, O, U), so what a person reads aloud or retypes is
 * forgiving: case, spaces and dashes do not matter, and O, I and L are read as 0, 1 and 1.
 */
import { z } from 'zod';
import { sessionRequest } from './events.js';

/** Crockford base32: 32 symbols, none easily mistaken for another. */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 24 symbols × 5 bits = 120 bits. */
export const RECOVERY_CODE_LENGTH = 24;
/** 8 symbols × 5 bits = 40 bits: enough for a code that lives minutes and is guessed slowly. */
export const LINK_CODE_LENGTH = 8;
/** Longest `code` a sign-in may carry, spaces and dashes included. */
export const MAX_CODE_INPUT_CHARS = 64;

export type SignInCodeKind = 'recovery' | 'link';

/**
 * The code as the relay compares it: upper case, without spaces and dashes, O/I/L read as 0/1/1.
 * Any other character stays, so a code with one can never match.
 */
export function normalizeCode(input: string): string {
  return input
    .toUpperCase()
    .replace(/[\s-]+/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

/** Which kind a normalized code is, by its length and alphabet; null when it is neither. */
export function codeKind(normalized: string): SignInCodeKind | null {
  if (![...normalized].every((c) => CODE_ALPHABET.includes(c))) return null;
  if (normalized.length === RECOVERY_CODE_LENGTH) return 'recovery';
  if (normalized.length === LINK_CODE_LENGTH) return 'link';
  return null;
}

/** Groups of four joined by dashes (`ABCD-EFGH`), the way codes are shown and downloaded. */
export function formatCode(code: string): string {
  return (normalizeCode(code).match(/.{1,4}/g) ?? []).join('-');
}

const code = z.string().min(1).max(MAX_CODE_INPUT_CHARS);

/**
 * `POST /api/session`'s body: a display name, and for a name that is someone's, a recovery code
 * or a device-link code of that user (either, told apart by length).
 */
export const signInRequest = sessionRequest.extend({ code: code.optional() });
export type SignInRequest = z.infer<typeof signInRequest>;

/** `POST /api/session`'s answer. `recovery_code` is present when a new one was just made. */
export const sessionResponse = z.object({
  token: z.string().min(1),
  user: z.object({ id: z.string().min(1).max(64), name: z.string().min(1).max(256) }),
  recovery_code: code.optional(),
});
export type SessionResponse = z.infer<typeof sessionResponse>;

/** `POST /api/recovery-code`'s answer: the new code (the old one stops working). */
export const recoveryCodeCreated = z.object({ recovery_code: code, created_at: z.string() });
export type RecoveryCodeCreated = z.infer<typeof recoveryCodeCreated>;

/** `GET /api/recovery-code`: when the current recovery code was made; null when there is none. */
export const recoveryCodeStatus = z.object({ created_at: z.string().nullable() });
export type RecoveryCodeStatus = z.infer<typeof recoveryCodeStatus>;

/** `POST /api/link-codes`'s answer. */
export const linkCodeCreated = z.object({ link_code: code, expires_at: z.string() });
export type LinkCodeCreated = z.infer<typeof linkCodeCreated>;
