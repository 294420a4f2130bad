import { describe, expect, it } from 'vitest';
import type { UiMessage } from '../state/types.js';
import { buildRows, GROUP_WINDOW_MS, localDayKey, messageKey } from './message-rows.js';

let seq = 0;
function msg(sender: string, at: Date, extra: Partial<UiMessage> = {}): UiMessage {
  seq += 1;
  return {
    chat_id: 'c1',
    message_id: `m${seq}`,
    seq,
    content: `message ${seq}`,
    sender_id: sender,
    sender_name: sender.toUpperCase(),
    timestamp: at.toISOString(),
    expires_at: null,
    mobile_ref_id: `ref${seq}`,
    edited_at: null,
    deleted_at: null,
    version_seq: seq,
    status: 'sent',
    ...extra,
  };
}

// Local-time constructors keep the tests independent of the machine's time zone.
const day1 = (h: number, m: number) => new Date(2025, 10, 21, h, m);
const day2 = (h: number, m: number) => new Date(2025, 10, 22, h, m);

describe('buildRows', () => {
  it('starts with a day separator and groups one sender within five minutes', () => {
    const rows = buildRows(
      [msg('ana', day1(9, 0)), msg('ana', day1(9, 4)), msg('ana', day1(9, 8))],
      { myId: null },
    );
    expect(rows.map((r) => (r.kind === 'day' ? `day ${r.day}` : r.continued))).toEqual([
      'day 2025-11-21',
      false,
      true,
      true,
    ]);
  });

  it('breaks a group after five minutes of silence, or when the sender changes', () => {
    const rows = buildRows(
      [
        msg('ana', day1(9, 0)),
        msg('ana', new Date(day1(9, 0).getTime() + GROUP_WINDOW_MS)),
        msg('ben', day1(9, 6)),
        msg('ana', day1(9, 7)),
      ],
      { myId: null },
    );
    expect(rows.filter((r) => r.kind === 'message').map((r) => r.continued)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('adds a separator when the local day changes and restarts grouping there', () => {
    const rows = buildRows([msg('ana', day1(23, 58)), msg('ana', day2(0, 1))], { myId: null });
    expect(rows.map((r) => r.kind)).toEqual(['day', 'message', 'day', 'message']);
    expect(rows[3]).toMatchObject({ kind: 'message', continued: false });
    expect(rows[2]).toMatchObject({ kind: 'day', day: '2025-11-22' });
  });

  it('marks own messages and keeps pending ones after confirmed ones in order', () => {
    const rows = buildRows(
      [
        msg('me', day2(10, 0)),
        msg('me', day2(10, 1), { status: 'pending', seq: Number.MAX_SAFE_INTEGER }),
      ],
      { myId: 'me' },
    );
    expect(rows.slice(1).map((r) => r.kind === 'message' && [r.own, r.continued])).toEqual([
      [true, false],
      [true, true],
    ]);
  });

  it('does not go back a day for a queued message written before newer ones', () => {
    const rows = buildRows(
      [msg('ben', day2(9, 0)), msg('me', day1(22, 0), { status: 'pending' })],
      { myId: 'me' },
    );
    expect(rows.map((r) => r.kind)).toEqual(['day', 'message', 'message']);
  });

  it('does not continue a group below a failed message', () => {
    const rows = buildRows([msg('me', day2(9, 0), { status: 'failed' }), msg('me', day2(9, 1))], {
      myId: 'me',
    });
    expect(rows[2]).toMatchObject({ kind: 'message', continued: false });
  });

  it('gives every row a unique key that survives confirmation of a pending message', () => {
    const pending = msg('me', day2(9, 0), {
      status: 'pending',
      message_id: 'local:r1',
      mobile_ref_id: 'r1',
    });
    const sent = { ...pending, status: 'sent' as const, message_id: 'real-id', seq: 7 };
    expect(messageKey(pending)).toBe(messageKey(sent));
    const twin = msg('me', day2(9, 1), { mobile_ref_id: 'r1' });
    const rows = buildRows([sent, twin], { myId: 'me' });
    const keys = rows.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('handles an empty list and a 10,000-message chat', () => {
    expect(buildRows([], { myId: null })).toEqual([]);
    const start = day1(0, 0).getTime();
    const many = Array.from({ length: 10_000 }, (_, i) =>
      msg(i % 3 === 0 ? 'ana' : 'ben', new Date(start + i * 60_000)),
    );
    const rows = buildRows(many, { myId: null });
    expect(rows.filter((r) => r.kind === 'message')).toHaveLength(10_000);
    expect(rows.filter((r) => r.kind === 'day').length).toBe(7);
  });
});

describe('localDayKey', () => {
  it('uses the local calendar day', () => {
    expect(localDayKey(new Date(2025, 0, 5, 23, 59).getTime())).toBe('2025-01-05');
    expect(localDayKey(new Date(2025, 0, 6, 0, 0).getTime())).toBe('2025-01-06');
  });
});
