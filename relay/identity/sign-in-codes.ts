/**
 * Recovery and device-link codes on the relay's side: made from the OS's random source, and kept
 * only as an HMAC-SHA-256 under a key of this relay's (kept in the store's meta, so every node of
 * a cluster shares it). The plain code exists only in the one answer that shows it.
 *
 * Why a keyed fast hash and not scrypt (which the passcode uses): a recovery code is 120 random
 * bits, so no hash speed makes an offline guess feasible, while a slow hash would hand anyone
 * who may try a code a lever on the relay's CPU (every attempt, even for an unknown name, must
 * cost the same). A link code is 40 bits but lives minutes and works once; online guessing is
 * what the limits in code-guard.ts stop. The key sits in the same database as the hashes, so it
 * adds nothing against someone holding the database, which SECURITY.md puts out of scope.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CodeGuard } from './code-guard.js';
import type { RelayLimits } from '../core/options.js';
import {
  CODE_ALPHABET,
  LINK_CODE_LENGTH,
  RECOVERY_CODE_LENGTH,
  codeKind,
  formatCode,
  normalizeCode,
  type LinkCodeCreated,
  type RecoveryCodeCreated,
  type SignInCodeKind,
} from '../protocol/sign-in-codes.js';
import { nameKey } from '../core/name-key.js';
import type { Store, StoredUser } from '../core/store.js';

const KEY_META = 'sign_in_code_key';

/** `length` symbols of Crockford base32, each from 5 unbiased random bits (32 divides 256). */
export function randomCode(length: number): string {
  const bytes = randomBytes(length);
  let code = '';
  for (const byte of bytes) code += CODE_ALPHABET[byte & 31];
  return code;
}

export function newRecoveryCode(): string {
  return randomCode(RECOVERY_CODE_LENGTH);
}

export function newLinkCode(): string {
  return randomCode(LINK_CODE_LENGTH);
}

/** Hashes codes under this relay's key. A hash names its purpose and, for link codes, its user. */
export class CodeHasher {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** The relay's key: made on first use and kept in the store, shared by every node. */
  static async create(store: Store): Promise<CodeHasher> {
    const key = await store.putMetaIfAbsent(KEY_META, randomBytes(32).toString('base64url'));
    return new CodeHasher(Buffer.from(key, 'base64url'));
  }

  recovery(code: string): string {
    return this.#hash(`recovery\0${normalizeCode(code)}`);
  }

  /** Bound to the user, so a code made for one user never matches another's. */
  link(userId: string, code: string): string {
    return this.#hash(`link\0${userId}\0${normalizeCode(code)}`);
  }

  /** Constant-time comparison of two hashes from this class (null never matches). */
  static same(candidate: string, stored: string | null): boolean {
    // The text itself, not its decoding: base64 decoders ignore a last symbol's spare bits.
    const a = Buffer.from(candidate, 'utf8');
    // An absent hash is compared against a stand-in of the same length, so it costs the same.
    const b = stored === null ? Buffer.alloc(a.length) : Buffer.from(stored, 'utf8');
    return a.length === b.length && timingSafeEqual(a, b) && stored !== null;
  }

  #hash(input: string): string {
    return createHmac('sha256', this.#key).update(input).digest('base64url');
  }
}

export interface SignInCodesDeps {
  store: Store;
  limits: Pick<
    RelayLimits,
    | 'codeFailuresPerName'
    | 'codeLockoutMs'
    | 'codeAttemptsPerMinute'
    | 'linkCodeTtlMs'
    | 'linkCodesPerUser'
  >;
}

export type CodeSignIn =
  | { ok: true; user: StoredUser; kind: SignInCodeKind; recoveryCode: string | null }
  | { ok: false; code: 'bad_recovery_code' }
  | { ok: false; code: 'rate_limited'; retryAfterMs: number };

/**
 * The rules for codes, in one place: signing in with one (guarded by CodeGuard), regenerating
 * the recovery code, making a link code. Codes leave here formatted (`ABCD-EFGH`).
 */
export class SignInCodes {
  readonly #d: SignInCodesDeps;
  readonly #guard: CodeGuard;
  #hasher: Promise<CodeHasher> | null = null;

  constructor(deps: SignInCodesDeps) {
    this.#d = deps;
    this.#guard = new CodeGuard({
      failuresPerName: deps.limits.codeFailuresPerName,
      lockoutMs: deps.limits.codeLockoutMs,
      attemptsPerMinute: deps.limits.codeAttemptsPerMinute,
    });
  }

  /** The hasher, its key read (or made) once; a failed read is tried again next time. */
  hasher(): Promise<CodeHasher> {
    this.#hasher ??= CodeHasher.create(this.#d.store).catch((error: unknown) => {
      this.#hasher = null;
      throw error;
    });
    return this.#hasher;
  }

  /**
   * A sign-in to `name` (whose user is `user`, or null when nobody has it) with a code. Unknown
   * names, wrong codes, used or expired link codes and another user's codes all answer
   * `bad_recovery_code` and count as a failure for the name. A recovery code is replaced when
   * used: the new one is returned, to be shown.
   */
  async signIn(name: string, user: StoredUser | null, input: string): Promise<CodeSignIn> {
    const key = nameKey(name);
    const verdict = this.#guard.attempt(key);
    if (!verdict.ok) return { ok: false, code: 'rate_limited', retryAfterMs: verdict.retryAfterMs };
    const hasher = await this.hasher();
    const code = normalizeCode(input);
    const kind = codeKind(code);
    const now = new Date();
    let recoveryCode: string | null = null;
    let matched = false;
    // An unknown name costs the same reads as a known one (user id '' matches no row).
    const userId = user?.id ?? '';
    if (kind === 'recovery') {
      const candidate = hasher.recovery(code);
      const stored = await this.#d.store.getRecoveryCode(userId);
      if (CodeHasher.same(candidate, stored?.hash ?? null) && user !== null) {
        const next = newRecoveryCode();
        // Compare-and-swap: of two sign-ins racing with one code, only one gets in.
        matched = await this.#d.store.replaceRecoveryCode(
          user.id,
          candidate,
          hasher.recovery(next),
          now,
        );
        if (matched) recoveryCode = formatCode(next);
      }
    } else if (kind === 'link') {
      matched = await this.#d.store.consumeLinkCode(userId, hasher.link(userId, code), now);
    }
    if (!matched || user === null || kind === null) {
      this.#guard.failed(key);
      return { ok: false, code: 'bad_recovery_code' };
    }
    this.#guard.succeeded(key);
    return { ok: true, user, kind, recoveryCode };
  }

  /** A new recovery code for the user; the old one stops working. */
  async regenerateRecovery(user: StoredUser): Promise<RecoveryCodeCreated> {
    const code = newRecoveryCode();
    const now = new Date();
    await this.#d.store.setRecoveryCode(user.id, (await this.hasher()).recovery(code), now);
    return { recovery_code: formatCode(code), created_at: now.toISOString() };
  }

  /** A device-link code for the user, working once within `linkCodeTtlMs`. */
  async createLink(user: StoredUser): Promise<LinkCodeCreated> {
    const code = newLinkCode();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.#d.limits.linkCodeTtlMs);
    await this.#d.store.addLinkCode({
      userId: user.id,
      hash: (await this.hasher()).link(user.id, code),
      now,
      expiresAt,
      maxOutstanding: this.#d.limits.linkCodesPerUser,
    });
    return { link_code: formatCode(code), expires_at: expiresAt.toISOString() };
  }
}
