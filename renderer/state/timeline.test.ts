import { describe, expect, it } from 'vitest';
import type { ChatEvent, WireMessage } from '../../relay/protocol/events.js';
import {
  MAX_TIMELINE_MESSAGES,
  addPending,
  applyChange,
  applyEvents,
  findBySeq,
  lastEditable,
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
    edited_at: null,
    deleted_at: null,
    version_seq: seq,
    ...extra,
  };
}

function edited(seq: number, messageSeq: number, content: string): ChatEvent {
  return {
    type: 'message_edited',
    chat_id: 'c1',
    seq,
    message_id: `m${messageSeq}`,
    message_seq: messageSeq,
    sender_id: 'ana',
    content,
    edited_at: `2026-11-22T11:00:${String(seq % 60).padStart(2, '0')}.000Z`,
  };
}

function deleted(seq: number, messageSeq: number): ChatEvent {
  return {
    type: 'message_deleted',
    chat_id: 'c1',
    seq,
    message_id: `m${messageSeq}`,
    message_seq: messageSeq,
    sender_id: 'ana',
    deleted_by: 'ana',
    deleted_at: `2026-11-22T12:00:${String(seq % 60).padStart(2, '0')}.000Z`,
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

describe('change events', () => {
  const base = (): ReturnType<typeof emptyTimeline> =>
    markSynced(mergeMessages(emptyTimeline(), [msg(1), msg(2), msg(3)], ME), 3);

  it('an edit sets text, edited_at and version_seq of the message it names', () => {
    const t = applyEvents(base(), [edited(4, 2, 'fixed typo')]);
    expect(findBySeq(t, 2)).toMatchObject({
      content: 'fixed typo',
      edited_at: '2026-11-22T11:00:04.000Z',
      deleted_at: null,
      version_seq: 4,
      status: 'sent',
    });
    expect(findBySeq(t, 1)?.content).toBe('message 1');
    expect(findBySeq(t, 3)?.content).toBe('message 3');
  });

  it('a delete leaves a tombstone: no text, deleted_at set', () => {
    const t = applyEvents(base(), [edited(4, 2, 'secret v2'), deleted(5, 2)]);
    const tomb = findBySeq(t, 2);
    expect(tomb).toMatchObject({ content: '', deleted_at: '2026-11-22T12:00:05.000Z' });
    expect(tomb?.version_seq).toBe(5);
    expect(JSON.stringify(t.messages)).not.toContain('secret');
    expect(JSON.stringify(t.messages)).not.toContain('message 2');
  });

  it('applies an event only when newer than the message: twice or out of order is harmless', () => {
    const once = applyEvents(base(), [edited(4, 2, 'first edit'), edited(6, 2, 'second edit')]);
    expect(applyEvents(once, [edited(6, 2, 'second edit')])).toBe(once);
    // The older edit after the newer one changes nothing.
    expect(applyEvents(once, [edited(4, 2, 'first edit')])).toBe(once);
    const reversed = applyEvents(base(), [edited(6, 2, 'second edit'), edited(4, 2, 'first edit')]);
    expect(findBySeq(reversed, 2)?.content).toBe('second edit');
    // An edit older than a delete never brings text back.
    const gone = applyEvents(base(), [deleted(7, 2)]);
    const after = applyEvents(gone, [edited(4, 2, 'first edit')]);
    expect(findBySeq(after, 2)).toMatchObject({ content: '', version_seq: 7 });
  });

  it('applyChange returns the same message when the event is for another message or not newer', () => {
    const m = msg(2, { version_seq: 5 });
    expect(applyChange(m, edited(6, 3, 'other'))).toBe(m);
    expect(applyChange(m, edited(5, 2, 'same version'))).toBe(m);
    expect(applyChange(m, edited(6, 2, 'newer')).content).toBe('newer');
  });

  it('events for messages not held change nothing but the resume point', () => {
    const t = base();
    const next = applyEvents(t, [edited(4, 99, 'not loaded')]);
    expect(next.messages).toBe(t.messages);
    expect(next.syncedSeq).toBe(4);
  });

  it('moves the resume point over events without a gap, not past one', () => {
    const t = applyEvents(base(), [edited(5, 1, 'b'), edited(4, 2, 'a')]);
    expect(t.syncedSeq).toBe(5);
    const gap = applyEvents(t, [deleted(8, 3)]);
    expect(gap.syncedSeq).toBe(5);
    // The message is still changed: the version rule makes it safe to apply early.
    expect(findBySeq(gap, 3)?.deleted_at).not.toBeNull();
    const filled = applyEvents(gap, [edited(6, 1, 'c'), edited(7, 2, 'd'), deleted(8, 3)]);
    expect(filled.syncedSeq).toBe(8);
  });

  it('never touches pending messages', () => {
    const pending = {
      ...msg(Number.MAX_SAFE_INTEGER, { sender_id: ME, mobile_ref_id: 'p' }),
      status: 'pending' as const,
    };
    const t = addPending(base(), pending);
    const next = applyEvents(t, [deleted(4, Number.MAX_SAFE_INTEGER)]);
    expect(next.pending).toBe(t.pending);
  });

  it('a merged newer version replaces the older copy of the same seq; an older one is ignored', () => {
    const t = base();
    const newer = mergeMessages(
      t,
      [msg(2, { content: 'edited', edited_at: 'x', version_seq: 9 })],
      ME,
    );
    expect(findBySeq(newer, 2)).toMatchObject({
      content: 'edited',
      version_seq: 9,
      status: 'sent',
    });
    expect(newer.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    const stale = mergeMessages(newer, [msg(2)], ME);
    expect(findBySeq(stale, 2)?.content).toBe('edited');
    // A tombstone from a history page replaces the text held.
    const tomb = mergeMessages(
      newer,
      [msg(2, { content: '', deleted_at: 'y', version_seq: 10 })],
      ME,
    );
    expect(findBySeq(tomb, 2)).toMatchObject({ content: '', deleted_at: 'y' });
    // Two copies in one appended batch: the newer wins.
    const batch = mergeMessages(t, [msg(4), msg(4, { content: 'v2', version_seq: 11 })], ME);
    expect(findBySeq(batch, 4)?.content).toBe('v2');
    expect(batch.messages).toHaveLength(4);
  });

  it('finds the last message one can edit: pending first, else the newest own non-deleted one', () => {
    let t = mergeMessages(
      emptyTimeline(),
      [msg(1, { sender_id: ME }), msg(2, { sender_id: ME }), msg(3)],
      ME,
    );
    expect(lastEditable(t, ME)?.seq).toBe(2);
    expect(lastEditable(t, null)).toBeNull();
    t = applyEvents(t, [deleted(4, 2)]);
    expect(lastEditable(t, ME)?.seq).toBe(1);
    const pending = {
      ...msg(Number.MAX_SAFE_INTEGER, { sender_id: ME, mobile_ref_id: 'p' }),
      status: 'pending' as const,
    };
    t = addPending(t, pending);
    expect(lastEditable(t, ME)?.mobile_ref_id).toBe('p');
    t = setPendingStatus(t, 'p', 'failed');
    expect(lastEditable(t, ME)?.seq).toBe(1);
    expect(lastEditable(t, 'nobody')).toBeNull();
  });
});
