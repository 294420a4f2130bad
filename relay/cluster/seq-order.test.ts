import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WireMessage } from '../protocol/events.js';
import { SeqOrder } from './seq-order.js';

function event(seq: number, chatId = 'a'): { message: WireMessage } {
  return {
    message: {
      chat_id: chatId,
      message_id: `${chatId}-${seq}`,
      seq,
      content: '',
      sender_id: 'u',
      sender_name: 'U',
      timestamp: '',
      expires_at: null,
      mobile_ref_id: `${seq}`,
      edited_at: null,
      deleted_at: null,
      version_seq: seq,
    },
  };
}

function setup(options: { holdMs?: number; maxChats?: number; maxHeldPerChat?: number } = {}) {
  const out: string[] = [];
  const order = new SeqOrder<{ message: WireMessage }>({
    position: (e) => ({ chatId: e.message.chat_id, seq: e.message.seq }),
    deliver: (e) => out.push(`${e.message.chat_id}${e.message.seq}`),
    ...options,
  });
  return { out, order };
}

describe('SeqOrder', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes messages in order straight through, each chat on its own', () => {
    const { out, order } = setup();
    for (const e of [event(5), event(1, 'b'), event(6), event(2, 'b'), event(7)]) order.push(e);
    expect(out).toEqual(['a5', 'b1', 'a6', 'b2', 'a7']);
    expect(order.held).toBe(0);
  });

  it('holds a message that overtook its predecessor until the predecessor arrives', () => {
    const { out, order } = setup();
    order.push(event(1));
    order.push(event(3));
    order.push(event(4));
    expect(out).toEqual(['a1']);
    expect(order.held).toBe(2);
    order.push(event(2));
    expect(out).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(order.held).toBe(0);
  });

  it('gives up after holdMs and delivers what it held, in seq order', () => {
    vi.useFakeTimers();
    const { out, order } = setup({ holdMs: 100 });
    order.push(event(1));
    order.push(event(4));
    order.push(event(3));
    vi.advanceTimersByTime(99);
    expect(out).toEqual(['a1']);
    vi.advanceTimersByTime(1);
    expect(out).toEqual(['a1', 'a3', 'a4']);
    // The lost one turning up late still goes out (clients drop seqs they already have).
    order.push(event(2));
    order.push(event(5));
    expect(out).toEqual(['a1', 'a3', 'a4', 'a2', 'a5']);
  });

  it('bounds what it holds per chat and the chats it tracks', () => {
    const { out, order } = setup({ maxHeldPerChat: 2, maxChats: 2 });
    order.push(event(1));
    order.push(event(3));
    order.push(event(4));
    // A third held message releases the first two rather than growing the buffer.
    order.push(event(6));
    expect(out).toEqual(['a1', 'a3', 'a4']);
    order.push(event(1, 'b'));
    order.push(event(1, 'c'));
    // Chat a was the least recently active: dropped, its held message delivered.
    expect(out).toEqual(['a1', 'a3', 'a4', 'b1', 'a6', 'c1']);
    expect(order.held).toBe(0);
  });
});
