/**
 * Tokens. Host mode: the relay issues HS256 JWTs itself (sub = user id, name, dev = device).
 * Company mode: the relay only verifies JWTs from the company's identity provider
 * (HS256 secret, a PEM public key for RS/ES/EdDSA, or a JWKS URL); `sub` is the user id and
 * `name` the display name. Library: jose.
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import {
  SignJWT,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type CryptoKey,
  type JWTVerifyGetKey,
} from 'jose';
import { failure, type Failure } from '../protocol/errors.js';
import type { AuthOptions } from '../core/options.js';
import type { Store, StoredUser } from '../core/store.js';
import { RelayError } from '../core/relay-error.js';

export interface Identity {
  user: StoredUser;
  /** Unix seconds when the token stops being valid, if it says. */
  expiresAt: number | null;
  /** The user's token generation the token was issued in (relay-issued tokens; else 0). */
  generation: number;
}

/**
 * How long an expired relay token still proves its user's name at sign-in (to get a new one):
 * 30 days after it expired. Beyond, the name needs a recovery or device-link code.
 */
export const RENEWAL_WINDOW_S = 30 * 24 * 3600;
/**
 * How long a user's token generation is believed without asking the store again. A revocation
 * made on this node is seen at once; one made on another cluster node within this time.
 */
export const GENERATION_CACHE_MS = 5_000;
/** Users whose generation is cached at most (the stalest go first). */
const GENERATION_CACHE_MAX = 10_000;

export type VerifyResult = { ok: true; identity: Identity } | Failure;

const ISSUER = 'parley-relay';
const SECRET_META_KEY = 'token_secret';

type VerifyKey = Uint8Array | CryptoKey | KeyObject | JWTVerifyGetKey;

export interface AuthConfig {
  auth: AuthOptions;
  jwtSecret: string | null;
  tokenTtlS: number;
  store: Store;
  /** Called for identity-provider users the relay sees for the first time or renamed. */
  onExternalUser: (user: StoredUser) => Promise<void>;
}

export class Auth {
  readonly #config: AuthConfig;
  readonly #key: VerifyKey;
  readonly #signingKey: CryptoKey | null;
  readonly #generations = new Map<string, { generation: number; at: number }>();

  private constructor(config: AuthConfig, key: VerifyKey, signingKey: CryptoKey | null) {
    this.#config = config;
    this.#key = key;
    this.#signingKey = signingKey;
  }

  static async create(config: AuthConfig): Promise<Auth> {
    const { auth } = config;
    if (auth.mode === 'relay') {
      const secret =
        config.jwtSecret ??
        (await config.store.putMetaIfAbsent(
          SECRET_META_KEY,
          randomBytes(32).toString('base64url'),
        ));
      // Imported once: given the raw bytes, jose imports them again for every token it signs or
      // checks (crypto.subtle.importKey, about a fifth of a token check in a connect storm).
      const key = await crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(secret),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign', 'verify'],
      );
      return new Auth(config, key, key);
    }
    if (auth.secret !== undefined)
      return new Auth(config, new TextEncoder().encode(auth.secret), null);
    if (auth.publicKeyPem !== undefined)
      return new Auth(config, createPublicKey(auth.publicKeyPem), null);
    if (auth.jwksUrl !== undefined)
      return new Auth(config, createRemoteJWKSet(new URL(auth.jwksUrl)), null);
    throw new RelayError('auth_no_key', 'jwt auth needs a key (checked by resolveOptions)');
  }

  /** True when this relay issues its own tokens (POST /api/session). */
  get issuesTokens(): boolean {
    return this.#signingKey !== null;
  }

  async issue(user: StoredUser, deviceId: string): Promise<string> {
    if (this.#signingKey === null)
      throw new RelayError('auth_not_issuer', 'this relay does not issue tokens');
    const generation = (await this.#generation(user.id)) ?? 0;
    return new SignJWT({ name: user.name, dev: deviceId, gen: generation })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.#config.tokenTtlS}s`)
      .sign(this.#signingKey);
  }

  /**
   * Revokes every token this relay issued to the user (sign out everywhere): their generation
   * moves on, and tokens of older generations fail {@link verify}. Returns the new generation,
   * or null for an unknown user.
   */
  async revokeAll(userId: string): Promise<number | null> {
    const generation = await this.#config.store.revokeTokens(userId);
    if (generation !== null) this.#remember(userId, generation);
    return generation;
  }

  /** The user's current token generation, cached for GENERATION_CACHE_MS. */
  async #generation(userId: string): Promise<number | null> {
    const cached = this.#generations.get(userId);
    if (cached !== undefined && Date.now() - cached.at < GENERATION_CACHE_MS) {
      return cached.generation;
    }
    const generation = await this.#config.store.getTokenGeneration(userId);
    if (generation !== null) this.#remember(userId, generation);
    return generation;
  }

  #remember(userId: string, generation: number): void {
    this.#generations.delete(userId);
    if (this.#generations.size >= GENERATION_CACHE_MAX) {
      const oldest = this.#generations.keys().next();
      if (oldest.done !== true) this.#generations.delete(oldest.value);
    }
    this.#generations.set(userId, { generation, at: Date.now() });
  }

  /**
   * Verifies a token. `allowExpired` is only for proving who owns a display name at sign-in: a
   * token this relay signed still proves that for RENEWAL_WINDOW_S after it expires (it never
   * grants access). A revoked token (an older generation) proves nothing.
   */
  async verify(
    token: string | null | undefined,
    { allowExpired = false }: { allowExpired?: boolean } = {},
  ): Promise<VerifyResult> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
      return failure('unauthorized', 'a token is required');
    }
    const { auth } = this.#config;
    let payload;
    try {
      const options =
        auth.mode === 'relay'
          ? {
              issuer: ISSUER,
              algorithms: ['HS256'],
              ...(allowExpired ? { currentDate: new Date(0) } : {}),
            }
          : { issuer: auth.issuer, audience: auth.audience };
      // jose's overloads differ by key kind; each branch passes the key it was built with.
      const result =
        typeof this.#key === 'function'
          ? await jwtVerify(token, this.#key, options)
          : await jwtVerify(token, this.#key, options);
      payload = result.payload;
    } catch (error) {
      const expired = error instanceof joseErrors.JWTExpired;
      return failure('unauthorized', expired ? 'the token has expired' : 'the token is not valid');
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 64) {
      return failure('unauthorized', 'the token has no usable subject');
    }
    const expiresAt = typeof payload.exp === 'number' ? payload.exp : null;
    if (auth.mode === 'relay') {
      if (allowExpired && expiresAt !== null && expiresAt < Date.now() / 1000 - RENEWAL_WINDOW_S) {
        return failure('unauthorized', 'the token expired too long ago to be renewed');
      }
      const user = await this.#config.store.getUser(sub);
      if (user === null) return failure('unauthorized', 'the token names an unknown user');
      const generation = typeof payload.gen === 'number' ? payload.gen : 0;
      if (generation < ((await this.#generation(user.id)) ?? 0)) {
        return failure('unauthorized', 'the token was revoked (signed out everywhere)');
      }
      return { ok: true, identity: { user, expiresAt, generation } };
    }
    const claimedName = typeof payload.name === 'string' ? payload.name.trim().slice(0, 64) : '';
    const name = claimedName.length > 0 ? claimedName : sub;
    const known = await this.#config.store.getUser(sub);
    if (known !== null && known.name === name)
      return { ok: true, identity: { user: known, expiresAt, generation: 0 } };
    const user = await this.#config.store.upsertUser({ id: sub, name, now: new Date() });
    await this.#config.onExternalUser(user);
    return { ok: true, identity: { user, expiresAt, generation: 0 } };
  }
}
