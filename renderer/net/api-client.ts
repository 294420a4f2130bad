/** Typed calls to the relay's HTTP API. Expected failures come back as values, never thrown. */
import type {
  ChatInfo,
  ChatSummary,
  MessageSent,
  SearchPage,
  UserInfo,
  WireMessage,
} from '../../relay/protocol/events.js';

export type ApiResult<T> =
  { ok: true; data: T } | { ok: false; code: string; message: string; status: number };

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null,
    private readonly fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
  ) {}

  withToken(token: string): ApiClient {
    return new ApiClient(this.baseUrl, token, this.fetchImpl);
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiResult<T>> {
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
    if (res.ok) return { ok: true, data: json as T };
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
    return {
      ok: false,
      code: error?.code ?? `http_${res.status}`,
      message: error?.message ?? res.statusText,
      status: res.status,
    };
  }

  session(input: { name: string; device_unique_id: string; passcode?: string; code?: string }) {
    return this.request<unknown>('POST', '/api/session', input);
  }
  /** When my recovery code was made (`{created_at}`, null for none); checked by the caller. */
  recoveryCodeStatus() {
    return this.request<unknown>('GET', '/api/recovery-code');
  }
  /** A new recovery code (`{recovery_code, created_at}`); the old one stops working. */
  newRecoveryCode() {
    return this.request<unknown>('POST', '/api/recovery-code');
  }
  /** A device-link code (`{link_code, expires_at}`). */
  newLinkCode() {
    return this.request<unknown>('POST', '/api/link-codes');
  }
  me() {
    return this.request<UserInfo>('GET', '/api/me');
  }
  users() {
    return this.request<{ users: UserInfo[] }>('GET', '/api/users');
  }
  chats() {
    return this.request<{ chats: ChatSummary[] }>('GET', '/api/chats');
  }
  publicChats() {
    return this.request<{ chats: ChatInfo[] }>('GET', '/api/chats?scope=public');
  }
  createChat(input: { name: string; visibility: 'public' | 'private'; ephemeral_ttl_s?: number }) {
    return this.request<{ chat: ChatInfo }>('POST', '/api/chats', input);
  }
  joinChat(chatId: string) {
    return this.request<{ chat: ChatInfo }>(
      'POST',
      `/api/chats/${encodeURIComponent(chatId)}/join`,
    );
  }
  leaveChat(chatId: string) {
    return this.request<{ ok: true }>('POST', `/api/chats/${encodeURIComponent(chatId)}/leave`);
  }
  /** A chat and its members (members only: 403 `not_member` for anyone else). */
  chat(chatId: string) {
    return this.request<{ chat: ChatInfo; members: UserInfo[] }>(
      'GET',
      `/api/chats/${encodeURIComponent(chatId)}`,
    );
  }
  addMember(chatId: string, userId: string) {
    return this.request<{ chat: ChatInfo }>(
      'POST',
      `/api/chats/${encodeURIComponent(chatId)}/members`,
      { user_id: userId },
    );
  }
  dm(userId: string) {
    return this.request<{ chat: ChatInfo }>('POST', '/api/dms', { user_id: userId });
  }
  history(chatId: string, query: { before_seq?: number; after_seq?: number; limit?: number }) {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    return this.request<{ messages: WireMessage[]; has_more: boolean }>(
      'GET',
      `/api/chats/${encodeURIComponent(chatId)}/messages?${params.toString()}`,
    );
  }
  search(query: { q: string; chat_id?: string; before?: string; limit?: number }) {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    return this.request<SearchPage>('GET', `/api/search?${params.toString()}`);
  }
  send(chatId: string, input: { content: string; mobile_ref_id: string }) {
    return this.request<MessageSent & { message: WireMessage }>(
      'POST',
      `/api/chats/${encodeURIComponent(chatId)}/messages`,
      input,
    );
  }
  read(chatId: string, seq: number) {
    return this.request<{ read_seq: number }>(
      'POST',
      `/api/chats/${encodeURIComponent(chatId)}/read`,
      { seq },
    );
  }
}
