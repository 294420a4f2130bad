/**
 * The relay's JSON HTTP API, for seeding data and for checking what the relay stored (the
 * browser shows one thing; the database must agree). See relay/PROTOCOL.md, "HTTP API".
 */
import type { ChatSummary, WireMessage } from '../../relay/protocol/events.js';

export interface Session {
  token: string;
  user: { id: string; name: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} answered ${status}: ${JSON.stringify(body)}`);
    this.name = 'ApiError';
  }
}

async function call<T>(
  baseUrl: string,
  token: string | null,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const parsed: unknown = await res.json();
  if (!res.ok) throw new ApiError(res.status, parsed, `${method} ${path}`);
  return parsed as T;
}

export function health(baseUrl: string): Promise<{ ok: boolean; version: string }> {
  return call(baseUrl, null, 'GET', '/healthz');
}

export function createSession(baseUrl: string, name: string): Promise<Session> {
  return call(baseUrl, null, 'POST', '/api/session', { name, device_unique_id: `e2e-${name}` });
}

export async function chats(baseUrl: string, token: string): Promise<ChatSummary[]> {
  return (await call<{ chats: ChatSummary[] }>(baseUrl, token, 'GET', '/api/chats')).chats;
}

export async function mainRoomId(baseUrl: string, token: string): Promise<string> {
  const main = (await chats(baseUrl, token)).find((chat) => chat.is_main);
  if (main === undefined) throw new Error('the relay has no main room');
  return main.id;
}

export async function createRoom(
  baseUrl: string,
  token: string,
  name: string,
  visibility: 'public' | 'private' = 'public',
): Promise<string> {
  const { chat } = await call<{ chat: { id: string } }>(baseUrl, token, 'POST', '/api/chats', {
    name,
    visibility,
  });
  return chat.id;
}

export async function postMessage(
  baseUrl: string,
  token: string,
  chatId: string,
  content: string,
  mobileRefId: string,
): Promise<number> {
  const sent = await call<{ seq: number }>(
    baseUrl,
    token,
    'POST',
    `/api/chats/${encodeURIComponent(chatId)}/messages`,
    { content, mobile_ref_id: mobileRefId },
  );
  return sent.seq;
}

/** The whole history of a chat, oldest first, paged 500 at a time. */
export async function history(
  baseUrl: string,
  token: string,
  chatId: string,
): Promise<WireMessage[]> {
  const all: WireMessage[] = [];
  for (;;) {
    const after = all.at(-1)?.seq ?? 0;
    const page = await call<{ messages: WireMessage[]; has_more: boolean }>(
      baseUrl,
      token,
      'GET',
      `/api/chats/${encodeURIComponent(chatId)}/messages?after_seq=${after}&limit=500`,
    );
    all.push(...page.messages);
    if (!page.has_more || page.messages.length === 0) return all;
  }
}
