/**
 * Saved company-server profiles: one URL or several (a cluster), and either a token from the
 * company's identity provider or a display name to sign in with. Tokens are stored through a
 * SecretCodec (Electron's safeStorage in the app; identity in tests).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ServerProfile, ServerProfileInput, ServerProfiles } from '../shared/bridge.js';
import { fail, ok, type Result } from '../shared/result.js';
import { readJsonFile, writeJsonFile } from './json-file.js';
import { normalizeRelayUrl } from './relay-url.js';

export const MAX_PROFILES = 50;
export const MAX_PROFILE_URLS = 16;

export interface SecretCodec {
  encrypt(plain: string): string;
  /** null when the secret cannot be read back (another OS account, a wiped keychain). */
  decrypt(stored: string): string | null;
}

export const PLAIN_CODEC: SecretCodec = { encrypt: (plain) => plain, decrypt: (stored) => stored };

const storedSchema = z.object({
  activeId: z.string().nullable(),
  profiles: z.array(
    z.object({
      id: z.string(),
      label: z.string(),
      urls: z.array(z.string()),
      auth: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('token'), secret: z.string() }),
        z.object({ kind: z.literal('sign-in'), displayName: z.string() }),
      ]),
    }),
  ),
});
type Stored = z.infer<typeof storedSchema>;

export class ServerProfileStore {
  readonly #path: string;
  readonly #codec: SecretCodec;
  #stored: Stored;

  constructor(options: { path: string; codec?: SecretCodec }) {
    this.#path = options.path;
    this.#codec = options.codec ?? PLAIN_CODEC;
    const parsed = storedSchema.safeParse(readJsonFile(options.path));
    this.#stored = parsed.success ? parsed.data : { activeId: null, profiles: [] };
  }

  list(): ServerProfiles {
    const profiles: ServerProfile[] = this.#stored.profiles.map((p) => ({
      id: p.id,
      label: p.label,
      urls: [...p.urls],
      auth:
        p.auth.kind === 'token'
          ? { kind: 'token', token: this.#codec.decrypt(p.auth.secret) ?? '' }
          : { kind: 'sign-in', displayName: p.auth.displayName },
    }));
    return { profiles, activeId: this.#stored.activeId };
  }

  /** Every URL of every profile (for the Content-Security-Policy). */
  urls(): string[] {
    return this.#stored.profiles.flatMap((p) => p.urls);
  }

  save(input: ServerProfileInput): Result<ServerProfile> {
    const label = input.label.trim();
    if (label.length === 0 || label.length > 80)
      return fail('invalid_label', 'labels are 1 to 80 characters');
    if (input.urls.length === 0 || input.urls.length > MAX_PROFILE_URLS) {
      return fail('invalid_urls', `a profile has 1 to ${MAX_PROFILE_URLS} server addresses`);
    }
    const urls: string[] = [];
    for (const raw of input.urls) {
      const url = normalizeRelayUrl(raw);
      if (url === null) return fail('invalid_urls', `"${raw}" is not an http(s) address`);
      if (!urls.includes(url)) urls.push(url);
    }
    const id = input.id ?? randomUUID();
    const existing = this.#stored.profiles.findIndex((p) => p.id === id);
    if (input.id !== undefined && existing === -1)
      return fail('not_found', 'no profile with that id');
    if (existing === -1 && this.#stored.profiles.length >= MAX_PROFILES) {
      return fail('too_many_profiles', `at most ${MAX_PROFILES} profiles`);
    }
    const auth =
      input.auth.kind === 'token'
        ? { kind: 'token' as const, secret: this.#codec.encrypt(input.auth.token) }
        : { kind: 'sign-in' as const, displayName: input.auth.displayName.trim() };
    const stored = { id, label, urls, auth };
    const profiles = [...this.#stored.profiles];
    if (existing === -1) profiles.push(stored);
    else profiles[existing] = stored;
    this.#write({ ...this.#stored, profiles });
    return ok({ id, label, urls, auth: input.auth });
  }

  remove(id: string): Result<null> {
    if (!this.#stored.profiles.some((p) => p.id === id))
      return fail('not_found', 'no profile with that id');
    this.#write({
      activeId: this.#stored.activeId === id ? null : this.#stored.activeId,
      profiles: this.#stored.profiles.filter((p) => p.id !== id),
    });
    return ok(null);
  }

  /** Switches the active profile (null: none, e.g. a LAN room). */
  activate(id: string | null): Result<ServerProfiles> {
    if (id !== null && !this.#stored.profiles.some((p) => p.id === id)) {
      return fail('not_found', 'no profile with that id');
    }
    this.#write({ ...this.#stored, activeId: id });
    return ok(this.list());
  }

  #write(next: Stored): void {
    this.#stored = next;
    writeJsonFile(this.#path, next);
  }
}
