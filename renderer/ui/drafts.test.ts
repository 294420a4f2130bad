import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HARD_LIMITS } from '../../relay/protocol/events.js';
import { MemoryStorage } from '../net/storage.js';
import { DRAFT_LIMITS, Drafts, storedDrafts } from './drafts.js';

describe('Drafts', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps a draft per chat and forgets empty ones', () => {
    const drafts = new Drafts(null, 's');
    drafts.set('a', 'hello');
    drafts.set('b', 'other');
    expect(drafts.get('a')).toBe('hello');
    drafts.set('a', '');
    expect(drafts.get('a')).toBe('');
    expect(drafts.get('b')).toBe('other');
  });

  it('saves after a pause and loads in a new page (same scope only)', () => {
    const storage = new MemoryStorage();
    const drafts = new Drafts(storage, 'srv|u1');
    drafts.set('a', 'typed before the reload');
    expect(new Drafts(storage, 'srv|u1').get('a')).toBe('');
    vi.runAllTimers();
    expect(new Drafts(storage, 'srv|u1').get('a')).toBe('typed before the reload');
    expect(new Drafts(storage, 'srv|u2').get('a')).toBe('');
  });

  it('saves at once on flush, and removes the key when nothing is left', () => {
    const storage = new MemoryStorage();
    const drafts = new Drafts(storage, 's');
    drafts.set('a', 'x');
    drafts.flush();
    expect(storage.get('parley.drafts:s')).not.toBeNull();
    drafts.set('a', '');
    drafts.flush();
    expect(storage.get('parley.drafts:s')).toBeNull();
  });

  it('ignores corrupt stored data', () => {
    const storage = new MemoryStorage();
    storage.set('parley.drafts:s', '{not json');
    expect(new Drafts(storage, 's').get('a')).toBe('');
    storage.set('parley.drafts:s', JSON.stringify([['a', 'ok'], ['b', 3], 'junk', ['c', '']]));
    const drafts = new Drafts(storage, 's');
    expect([drafts.get('a'), drafts.get('b'), drafts.get('c')]).toEqual(['ok', '', '']);
  });

  it('restores a failed message after the current draft and asks for focus', () => {
    const drafts = new Drafts(null, 's');
    const focused: string[] = [];
    drafts.onRestore((chatId) => focused.push(chatId));
    drafts.restore('a', 'first');
    expect(drafts.get('a')).toBe('first');
    drafts.set('a', 'draft \n');
    drafts.restore('a', 'failed text');
    expect(drafts.get('a')).toBe('draft\n\nfailed text');
    expect(focused).toEqual(['a', 'a']);
  });

  it('tells subscribers about changes, not about no-ops', () => {
    const drafts = new Drafts(null, 's');
    let calls = 0;
    const stop = drafts.subscribe(() => (calls += 1));
    drafts.set('a', 'x');
    drafts.set('a', 'x');
    stop();
    drafts.set('a', 'y');
    expect(calls).toBe(1);
  });

  it('keeps saving other drafts when storage refuses a write', () => {
    const storage = new MemoryStorage();
    const drafts = new Drafts(
      {
        get: (key) => storage.get(key),
        set: () => {
          throw new Error('QuotaExceededError');
        },
        remove: (key) => storage.remove(key),
      },
      's',
    );
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    drafts.set('a', 'still here');
    drafts.flush();
    expect(warn).toHaveBeenCalledOnce();
    expect(drafts.get('a')).toBe('still here');
    warn.mockRestore();
  });
});

describe('storedDrafts', () => {
  it('keeps the most recent chats up to the count bound', () => {
    const all = Array.from({ length: DRAFT_LIMITS.chats + 5 }, (_, i) => [`c${i}`, 't'] as const);
    const kept = storedDrafts(all);
    expect(kept).toHaveLength(DRAFT_LIMITS.chats);
    expect(kept[0]?.[0]).toBe('c5');
    expect(kept.at(-1)?.[0]).toBe(`c${DRAFT_LIMITS.chats + 4}`);
  });

  it('drops the oldest when the characters do not fit, and never stores an oversized one', () => {
    const big = 'x'.repeat(HARD_LIMITS.contentChars);
    const many = Array.from({ length: 12 }, (_, i) => [`c${i}`, big] as const);
    const kept = storedDrafts([...many, ['huge', `${big}y`]]);
    expect(kept.map(([id]) => id)).toEqual([
      'c3',
      'c4',
      'c5',
      'c6',
      'c7',
      'c8',
      'c9',
      'c10',
      'c11',
    ]);
    expect(kept.reduce((n, [id, text]) => n + id.length + text.length, 0)).toBeLessThanOrEqual(
      DRAFT_LIMITS.storedChars,
    );
  });
});
