/**
 * Who is signed in where: the saved session (server URLs, token, user), this device's id, and
 * the sign-in requests that make a session (display name and code, or a token). Starting the
 * session (sockets, outbox, directory) is the facade's job (parley-client.ts).
 */
import { z } from 'zod';
import type { UserInfo } from '../../relay/protocol/events.js';
import { ApiClient, type ApiResult } from './api-client.js';
import { readJson, type KeyValueStorage } from './storage.js';

export interface SavedSession {
  /** One URL, or several nodes of a cluster (rotated on failure). */
  serverUrls: string[];
  token: string;
  user: UserInfo;
}

const SESSION_KEY = 'parley.session';
const DEVICE_KEY = 'parley.device';

const savedSession = z.object({
  serverUrls: z.array(z.string()),
  token: z.string(),
  user: z.object({ id: z.string(), name: z.string() }),
});

function isSession(value: unknown): value is SavedSession {
  return savedSession.safeParse(value).success;
}

/** The cache scope of a session: one server and one user. */
export function historyScope(session: Pick<SavedSession, 'serverUrls' | 'user'>): string {
  return `${session.serverUrls[0] ?? ''}|${session.user.id}`;
}

export function normalizeServerUrl(input: string): string | null {
  const trimmed = input.trim().replace(/\/+$/, '');
  const withScheme = /^[a-z]+:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  try {
    const url = new URL(withScheme);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    // Not a URL at all: the caller says "enter an http(s) address".
    return null;
  }
}

function invalidUrl(): ApiResult<never> {
  return { ok: false, code: 'invalid_url', message: 'enter an http(s) address', status: 0 };
}

export interface SignInInput {
  serverUrl: string;
  name: string;
  passcode?: string;
  /** A recovery code or a device-link code of the user who owns `name`. */
  code?: string;
}

/** A session the relay just made, and the recovery code it made with it (if it did). */
export interface NewSession {
  session: SavedSession;
  recoveryCode: string | undefined;
}

/** The saved session and this device's id, in the page's storage. */
export class SessionKeeper {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly fetchImpl: typeof fetch | undefined,
  ) {}

  get deviceId(): string {
    let id = this.storage.get(DEVICE_KEY);
    if (id === null) {
      id = globalThis.crypto.randomUUID();
      this.storage.set(DEVICE_KEY, id);
    }
    return id;
  }

  saved(): SavedSession | null {
    return readJson(this.storage, SESSION_KEY, isSession);
  }

  remember(session: SavedSession): void {
    this.storage.set(SESSION_KEY, JSON.stringify(session));
  }

  forget(): void {
    this.storage.remove(SESSION_KEY);
  }

  /** Signs in with a display name on a relay that issues its own tokens (LAN host). */
  async signIn(input: SignInInput): Promise<ApiResult<NewSession>> {
    const serverUrl = normalizeServerUrl(input.serverUrl);
    if (serverUrl === null) return invalidUrl();
    const previous = this.saved();
    // Re-signing with the same name on the same relay proves ownership with the old token.
    const sameServer = previous?.serverUrls.includes(serverUrl) === true;
    const api = new ApiClient(
      serverUrl,
      sameServer ? (previous?.token ?? null) : null,
      this.fetchImpl,
    );
    const made = await api.session({
      name: input.name,
      device_unique_id: this.deviceId,
      ...(input.passcode === undefined || input.passcode === ''
        ? {}
        : { passcode: input.passcode }),
      ...(input.code === undefined || input.code.trim() === '' ? {} : { code: input.code }),
    });
    if (!made.ok) return made;
    const { token, user, recovery_code: recoveryCode } = made.data;
    return { ok: true, data: { session: { serverUrls: [serverUrl], token, user }, recoveryCode } };
  }

  /** Checks a token (from the company's identity provider, or a saved one) with the relay. */
  async useToken(input: { serverUrls: string[]; token: string }): Promise<ApiResult<SavedSession>> {
    const serverUrls = input.serverUrls
      .map(normalizeServerUrl)
      .filter((u): u is string => u !== null);
    const first = serverUrls[0];
    if (first === undefined) return invalidUrl();
    const me = await new ApiClient(first, input.token, this.fetchImpl).me();
    if (!me.ok) return me;
    return { ok: true, data: { serverUrls, token: input.token, user: me.data } };
  }
}
