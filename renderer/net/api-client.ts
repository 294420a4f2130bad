/**
 * Typed calls to the relay's HTTP API. Expected failures come back as values, never thrown.
 * Every answer is checked against its wire schema (relay/protocol/wire-schemas.ts) before the
 * caller sees it: an answer that does not match is an `invalid_payload` failure.
 */
import { z, type ZodType } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../../relay/protocol/errors.js';
import {
  chatAnswerSchema,
  chatDetailsAnswerSchema,
  chatsAnswerSchema,
  historyPageSchema,
  messageChangedSchema,
  publicChatsAnswerSchema,
  readAnswerSchema,
  searchPageSchema,
  userInfoSchema,
  usersAnswerSchema,
} from '../../relay/protocol/wire-schemas.js';
import {
  linkCodeCreated,
  recoveryCodeCreated,
  recoveryCodeStatus,
  sessionResponse,
} from '../../relay/protocol/sign-in-codes.js';

/**
 * Failures only the client sees: `unreachable` (the request never got an answer), `invalid_url`
 * (the address typed cannot be a relay), `signed_out` (no session), `failed` (a call threw),
 * `http_<status>` (an error answer without a code the protocol knows, e.g. a proxy's page).
 */
export type ClientErrorCode =
  'unreachable' | 'invalid_url' | 'signed_out' | 'failed' | `http_${number}`;

/** Every code an ApiResult can carry: the relay's (relay/protocol/errors.ts) or the client's. */
export type ApiErrorCode = ErrorCode | ClientErrorCode;

export type ApiResult<T> =
  { ok: true; data: T } | { ok: false; code: ApiErrorCode; message: string; status: number };

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** Anything with a JSON body that is not worth a schema (acknowledgements the caller ignores). */
const anyAnswer = z.unknown();

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null,
    private readonly fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
  ) {}

  withToken(token: string): ApiClient {
    return new ApiClient(this.baseUrl, token, this.fetchImpl);
  }

  async request<T>(
    method: Method,
    path: string,
    schema: ZodType<T>,
    body?: unknown,
  ): Promise<ApiResult<T>> {
    const headers: Record<string, string> = {};
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      return {
        ok: false,
        code: 'unreachable',
        message: `cannot reach ${this.baseUrl}: ${String(error)}`,
        status: 0,
      };
    }
    let json: unknown = null;
    try {
      json = await res.json();
    } catch {
      // A non-JSON answer (a proxy's error page): reported below with the status.
    }
    if (res.ok) {
      const parsed = schema.safeParse(json);
      if (parsed.success) return { ok: true, data: parsed.data };
      console.warn(
        `parley: ${method} ${path.split('?')[0] ?? path} answered unexpectedly`,
        parsed.error,
      );
      return {
        ok: false,
        code: 'invalid_payload',
        message: 'the server answered unexpectedly',
        status: res.status,
      };
    }
    const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    return {
      ok: false,
      code: isErrorCode(error?.code) ? error.code : `http_${res.status}`,
      message: typeof error?.message === 'string' ? error.message : res.statusText,
      status: res.status,
    };
  }

  session(input: { name: string; device_unique_id: string; passcode?: string; code?: string }) {
    return this.request('POST', '/api/session', sessionResponse, input);
  }
  /** When my recovery code was made (`{created_at}`, null for none). */
  recoveryCodeStatus() {
    return this.request('GET', '/api/recovery-code', recoveryCodeStatus);
  }
  /** A new recovery code (`{recovery_code, created_at}`); the old one stops working. */
  newRecoveryCode() {
    return this.request('POST', '/api/recovery-code', recoveryCodeCreated);
  }
  /** A device-link code (`{link_code, expires_at}`). */
  newLinkCode() {
    return this.request('POST', '/api/link-codes', linkCodeCreated);
  }
  me() {
    return this.request('GET', '/api/me', userInfoSchema);
  }
  users() {
    return this.request('GET', '/api/users', usersAnswerSchema);
  }
  chats() {
    return this.request('GET', '/api/chats', chatsAnswerSchema);
  }
  publicChats() {
    return this.request('GET', '/api/chats?scope=public', publicChatsAnswerSchema);
  }
  createChat(input: { name: string; visibility: 'public' | 'private'; ephemeral_ttl_s?: number }) {
    return this.request('POST', '/api/chats', chatAnswerSchema, input);
  }
  joinChat(chatId: string) {
    return this.request('POST', `${chatPath(chatId)}/join`, chatAnswerSchema);
  }
  leaveChat(chatId: string) {
    return this.request('POST', `${chatPath(chatId)}/leave`, anyAnswer);
  }
  /** A chat and its members (members only: 403 `not_member` for anyone else). */
  chat(chatId: string) {
    return this.request('GET', chatPath(chatId), chatDetailsAnswerSchema);
  }
  addMember(chatId: string, userId: string) {
    return this.request('POST', `${chatPath(chatId)}/members`, anyAnswer, { user_id: userId });
  }
  dm(userId: string) {
    return this.request('POST', '/api/dms', chatAnswerSchema, { user_id: userId });
  }
  /** With `after_seq`: a window of the stream (messages and events); else older messages. */
  history(chatId: string, query: { before_seq?: number; after_seq?: number; limit?: number }) {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    return this.request(
      'GET',
      `${chatPath(chatId)}/messages?${params.toString()}`,
      historyPageSchema,
    );
  }
  search(query: { q: string; chat_id?: string; before?: string; limit?: number }) {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    return this.request('GET', `/api/search?${params.toString()}`, searchPageSchema);
  }
  /** `PATCH /api/chats/:id/messages/:message_id`: the same edit as the socket's `edit_message`. */
  editMessage(chatId: string, messageId: string, input: { content: string; ref_id: string }) {
    return this.request('PATCH', messagePath(chatId, messageId), messageChangedSchema, input);
  }
  deleteMessage(chatId: string, messageId: string) {
    return this.request('DELETE', messagePath(chatId, messageId), messageChangedSchema);
  }
  read(chatId: string, seq: number) {
    return this.request('POST', `${chatPath(chatId)}/read`, readAnswerSchema, { seq });
  }
}

function chatPath(chatId: string): string {
  return `/api/chats/${encodeURIComponent(chatId)}`;
}

function messagePath(chatId: string, messageId: string): string {
  return `${chatPath(chatId)}/messages/${encodeURIComponent(messageId)}`;
}
