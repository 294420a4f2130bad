import { describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';
import { MemoryStorage } from './storage.js';

const item = (n: number, chatId = 'c1') => ({
  chatId,
  mobileRefId: `ref-${n}`,
  content: `hello ${n}`,
  createdAt: '2026-11-22T10:00:00.000Z',
});

describe('Outbox', () => {
  it('keeps messages in the order written and survives a reload from storage', () => {
    const storage = new MemoryStorage();
    const outbox = new Outbox(storage, 'user-1');
    for (const n of [1, 2, 3]) expect(outbox.add(item(n))).toBe(true);
    outbox.remove('ref-2');
    const reloaded = new Outbox(storage, 'user-1');
    expect(reloaded.items().map((i) => i.mobileRefId)).toEqual(['ref-1', 'ref-3']);
    expect(new Outbox(storage, 'user-2').size).toBe(0);
  });

  it('refuses new messages when full instead of dropping old ones', () => {
    const outbox = new Outbox(new MemoryStorage(), 'u', 2);
    expect(outbox.add(item(1))).toBe(true);
    expect(outbox.add(item(2))).toBe(true);
    expect(outbox.add(item(3))).toBe(false);
    expect(outbox.items().map((i) => i.mobileRefId)).toEqual(['ref-1', 'ref-2']);
  });

  it('ignores corrupt or foreign data in storage', () => {
    const storage = new MemoryStorage();
    storage.set('parley.outbox:u', '{not json');
    expect(new Outbox(storage, 'u').size).toBe(0);
    storage.set('parley.outbox:u', JSON.stringify([item(1), { chatId: 5 }, 'x', null]));
    expect(new Outbox(storage, 'u').items().map((i) => i.mobileRefId)).toEqual(['ref-1']);
  });

  it('clear empties it and its storage', () => {
    const storage = new MemoryStorage();
    const outbox = new Outbox(storage, 'u');
    outbox.add(item(1));
    outbox.clear();
    expect(outbox.size).toBe(0);
    expect(storage.get('parley.outbox:u')).toBeNull();
  });
});
