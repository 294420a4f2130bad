/**
 * ApiClient's failures as values: the relay's coded errors pass through typed, anything else
 * becomes a client code; an answer that does not match its schema is never handed on.
 */
import { describe, expect, it, vi } from 'vitest';
import { ApiClient, type ApiErrorCode } from './api-client.js';

function answering(status: number, body: unknown): typeof fetch {
  const fetchImpl = async () =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  return fetchImpl as typeof fetch;
}

async function codeOf(fetchImpl: typeof fetch): Promise<ApiErrorCode | 'ok'> {
  const result = await new ApiClient('http://relay.test', 't', fetchImpl).me();
  return result.ok ? 'ok' : result.code;
}

describe('ApiClient', () => {
  it("passes the relay's error codes on and names every other failure with a client code", async () => {
    const refused = answering(401, { error: { code: 'unauthorized', message: 'expired' } });
    expect(await codeOf(refused)).toBe('unauthorized');
    expect(await codeOf(answering(502, '<html>bad gateway</html>'))).toBe('http_502');
    expect(await codeOf(answering(400, { error: { code: 'made_up', message: 'x' } }))).toBe(
      'http_400',
    );
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    expect(await codeOf(down)).toBe('unreachable');
  });

  it('checks every answer against its schema and hands on only what matches', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(await codeOf(answering(200, { id: 'u1', name: 'Ana' }))).toBe('ok');
    expect(await codeOf(answering(200, { id: 7 }))).toBe('invalid_payload');
    const page = await new ApiClient(
      'http://relay.test',
      't',
      answering(200, { messages: [{ seq: 'one' }], events: [], has_more: false }),
    ).history('c1', { after_seq: 0 });
    expect(page).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });

  it('sends edits as PATCH and deletes as DELETE on the message, and reads their MessageChanged', async () => {
    const calls: [string, string | undefined, unknown][] = [];
    const message = {
      chat_id: 'c1',
      message_id: 'm 1',
      seq: 1,
      content: 'new',
      sender_id: 'u1',
      sender_name: 'Ana',
      timestamp: '2026-12-01T10:00:00.000Z',
      expires_at: null,
      mobile_ref_id: 'r1',
      edited_at: '2026-12-01T10:01:00.000Z',
      deleted_at: null,
      version_seq: 2,
    };
    const event = {
      type: 'message_edited',
      chat_id: 'c1',
      seq: 2,
      message_id: 'm 1',
      message_seq: 1,
      sender_id: 'u1',
      content: 'new',
      edited_at: '2026-12-01T10:01:00.000Z',
    };
    const fetchImpl = (async (url: string, init?: RequestInit) => {
      calls.push([
        url,
        init?.method,
        init?.body === undefined ? undefined : JSON.parse(String(init.body)),
      ]);
      return new Response(JSON.stringify({ message, event, duplicate: false }), { status: 200 });
    }) as typeof fetch;
    const api = new ApiClient('http://relay.test', 't', fetchImpl);
    const edit = await api.editMessage('c1', 'm 1', { content: 'new', ref_id: 'e1' });
    expect(edit).toMatchObject({ ok: true, data: { event: { seq: 2 }, duplicate: false } });
    await api.deleteMessage('c1', 'm 1');
    expect(calls).toEqual([
      ['http://relay.test/api/chats/c1/messages/m%201', 'PATCH', { content: 'new', ref_id: 'e1' }],
      ['http://relay.test/api/chats/c1/messages/m%201', 'DELETE', undefined],
    ]);
  });
});
