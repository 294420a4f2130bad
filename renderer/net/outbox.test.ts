import { describe, expect, it } from 'vitest';
import { Outbox, itemKey, type OutboxItem } from './outbox.js';
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
    expect(reloaded.items().map((i) => itemKey(i))).toEqual(['ref-1', 'ref-3']);
    expect(new Outbox(storage, 'user-2').size).toBe(0);
  });

  it('refuses new messages when full instead of dropping old ones', () => {
    const outbox = new Outbox(new MemoryStorage(), 'u', 2);
    expect(outbox.add(item(1))).toBe(true);
    expect(outbox.add(item(2))).toBe(true);
    expect(outbox.add(item(3))).toBe(false);
    expect(outbox.items().map((i) => itemKey(i))).toEqual(['ref-1', 'ref-2']);
  });

  it('ignores corrupt or foreign data in storage', () => {
    const storage = new MemoryStorage();
    storage.set('parley.outbox:u', '{not json');
    expect(new Outbox(storage, 'u').size).toBe(0);
    storage.set('parley.outbox:u', JSON.stringify([item(1), { chatId: 5 }, 'x', null]));
    expect(new Outbox(storage, 'u').items().map((i) => itemKey(i))).toEqual(['ref-1']);
  });

  it('clear empties it and its storage', () => {
    const storage = new MemoryStorage();
    const outbox = new Outbox(storage, 'u');
    outbox.add(item(1));
    outbox.clear();
    expect(outbox.size).toBe(0);
    expect(storage.get('parley.outbox:u')).toBeNull();
  });

  it('keeps edits and deletes in order with the sends, with their targets, across a reload', () => {
    const storage = new MemoryStorage();
    const outbox = new Outbox(storage, 'u');
    const edit: OutboxItem = {
      kind: 'edit',
      chatId: 'c1',
      refId: 'edit-1',
      target: { mobileRefId: 'ref-1' },
      content: 'hello again',
      createdAt: '2026-11-22T10:01:00.000Z',
    };
    const del: OutboxItem = {
      kind: 'delete',
      chatId: 'c1',
      refId: 'delete-1',
      target: { messageId: 'm7' },
      createdAt: '2026-11-22T10:02:00.000Z',
    };
    for (const next of [item(1), edit, item(2), del]) expect(outbox.add(next)).toBe(true);
    outbox.update((queued) =>
      queued.kind === 'edit' ? { ...queued, target: { messageId: 'm9' } } : queued,
    );
    const reloaded = new Outbox(storage, 'u');
    expect(reloaded.items()).toEqual([
      item(1),
      { ...edit, target: { messageId: 'm9' } },
      item(2),
      del,
    ]);
    expect(reloaded.find('delete-1')).toEqual(del);
    reloaded.remove('edit-1');
    expect(new Outbox(storage, 'u').items().map(itemKey)).toEqual(['ref-1', 'ref-2', 'delete-1']);
  });

  it('drops stored changes that lack their target or text', () => {
    const storage = new MemoryStorage();
    storage.set(
      'parley.outbox:u',
      JSON.stringify([
        { kind: 'edit', chatId: 'c1', refId: 'e1', content: 'x', createdAt: 'now' },
        { kind: 'edit', chatId: 'c1', refId: 'e2', target: { messageId: 'm1' }, createdAt: 'now' },
        { kind: 'delete', chatId: 'c1', refId: 'd1', target: {}, createdAt: 'now' },
        item(1),
      ]),
    );
    expect(new Outbox(storage, 'u').items().map(itemKey)).toEqual(['ref-1']);
  });
});
