import { describe, expect, it } from 'vitest';
import type { WireMessage } from '../../relay/protocol/events.js';
import {
  MAX_TIMELINE_MESSAGES,
  addPending,
  emptyTimeline,
  lastSeq,
  markSynced,
  mergeMessages,
  prependOlder,
  receiveLive,
  removeExpired,
  removePending,
  setPendingStatus,
} from './timeline.js';

const ME = 'me';

function msg(seq: number, extra: Partial<WireMessage> = {}): WireMessage {
  return {
    chat_id: 'c1',
    message_id: `m${seq}`,
    seq,
    content: `message ${seq}`,
    sender_id: 'ana',
    sender_name: 'Ana',
    timestamp: new Date(Date.UTC(2026, 10, 22, 10, 0, seq % 60)).toISOString(),
    expires_at: null,
    mobile_ref_id: `r${seq}`,
    ...extra,
  };
}

describe('timeline', () => {
  it('keeps confirmed messages ordered by seq without duplicates, whatever the arrival order', () => {
    let t = mergeMessages(emptyTimeline(), [msg(3), msg(1)], ME);
    t = mergeMessages(t, [msg(2), msg(3), msg(5)], ME);
    t = mergeMessages(t, [msg(4), msg(1)], ME);
    expect(t.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(t.messages.every((m) => m.status === 'sent')).toBe(true);
    expect(lastSeq(t)).toBe(5);
  });

  it('reports a gap when a live seq jumps past the resume point, and none for the next seq', () => {
    let t = markSynced(mergeMessages(emptyTimeline(), [msg(1), msg(2)], ME), 2);
    const next = receiveLive(t, msg(3), ME);
    expect(next.gap).toBe(false);
    expect(next.timeline.syncedSeq).toBe(3);
    t = next.timeline;
    const jump = receiveLive(t, msg(6), ME);
    expect(jump.gap).toBe(true);
    expect(jump.timeline.syncedSeq).toBe(3);
    expect(jump.timeline.messages.map((m) => m.seq)).toEqual([1, 2, 3, 6]);
    const old = receiveLive(jump.timeline, msg(2), ME);
    expect(old.gap).toBe(false);
    expect(old.timeline.messages).toHaveLength(4);
  });

  it('drops an own pending message once the relay confirms its mobile_ref_id', () => {
    const pending = {
      ...msg(Number.MAX_SAFE_INTEGER, { sender_id: ME, mobile_ref_id: 'local-1' }),
      status: 'pending' as const,
    };
    let t = addPending(emptyTimeline(), pending);
    t = mergeMessages(t, [msg(1, { sender_id: 'ana', mobile_ref_id: 'local-1' })], ME);
    expect(t.pending).toHaveLength(1);
    t = mergeMessages(t, [msg(2, { sender_id: ME, mobile_ref_id: 'local-1' })], ME);
    expect(t.pending).toHaveLength(0);
    expect(t.messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('marks pending messages failed and back, and removes them', () => {
    const pending = {
      ...msg(9, { sender_id: ME, mobile_ref_id: 'x' }),
      status: 'pending' as const,
    };
    let t = addPending(emptyTimeline(), pending);
    t = setPendingStatus(t, 'x', 'failed', {
      code: 'message_too_long',
      message: 'messages are at most 8000 characters',
    });
    expect(t.pending[0]).toMatchObject({
      status: 'failed',
      error: 'messages are at most 8000 characters',
      errorCode: 'message_too_long',
    });
    t = setPendingStatus(t, 'x', 'pending');
    expect(t.pending[0]?.status).toBe('pending');
    expect(removePending(t, 'x').pending).toHaveLength(0);
  });

  it('prepends older pages and records whether even older ones exist', () => {
    let t = mergeMessages(emptyTimeline(), [msg(101), msg(102)], ME);
    t = prependOlder(
      t,
      Array.from({ length: 100 }, (_, i) => msg(i + 1)),
      false,
      ME,
    );
    expect(t.messages).toHaveLength(102);
    expect(t.messages[0]?.seq).toBe(1);
    expect(t.hasOlder).toBe(false);
    expect(t.loadingOlder).toBe(false);
  });

  it('removes expired messages of ephemeral chats', () => {
    const t = mergeMessages(
      emptyTimeline(),
      [
        msg(1, { expires_at: '2026-11-22T10:00:05.000Z' }),
        msg(2, { expires_at: '2026-11-22T10:00:20.000Z' }),
      ],
      ME,
    );
    const after = removeExpired(t, Date.parse('2026-11-22T10:00:10.000Z'));
    expect(after.messages.map((m) => m.seq)).toEqual([2]);
    expect(removeExpired(after, Date.parse('2026-11-22T10:00:10.000Z'))).toBe(after);
  });

  it('bounds the messages kept in memory and remembers that older ones exist', () => {
    const many = Array.from({ length: MAX_TIMELINE_MESSAGES + 10 }, (_, i) => msg(i + 1));
    const t = mergeMessages(emptyTimeline(), many, ME);
    expect(t.messages).toHaveLength(MAX_TIMELINE_MESSAGES);
    expect(t.messages[0]?.seq).toBe(11);
    expect(t.hasOlder).toBe(true);
  });
});
