import { describe, expect, it } from 'vitest';
import { memberListView } from './member-list.js';

const members = [
  { id: 'z', name: 'Zoë' },
  { id: 'a', name: 'Ana' },
  { id: 'b', name: 'Bo' },
  { id: 'c', name: 'Chloé' },
];

describe('memberListView', () => {
  it('puts online members first, each group by name, and counts them', () => {
    const view = memberListView({ members, online: new Set(['z', 'b']), myId: 'a', query: '' });
    expect(view.rows.map((m) => [m.name, m.online, m.me])).toEqual([
      ['Bo', true, false],
      ['Zoë', true, false],
      ['Ana', false, true],
      ['Chloé', false, false],
    ]);
    expect(view).toMatchObject({ matching: 4, online: 2, total: 4 });
  });

  it('narrows by any part of the name, ignoring case and accents', () => {
    const view = memberListView({ members, online: new Set(), myId: null, query: ' LOE ' });
    expect(view.rows.map((m) => m.name)).toEqual(['Chloé']);
    expect(memberListView({ members, online: new Set(), myId: null, query: 'zoe' }).matching).toBe(
      1,
    );
  });

  it('shows at most the limit but counts every match', () => {
    const many = Array.from({ length: 250 }, (_, i) => ({ id: `u${i}`, name: `User ${i}` }));
    const view = memberListView({
      members: many,
      online: new Set(['u249']),
      myId: null,
      query: '',
    });
    expect(view.rows).toHaveLength(200);
    expect(view.rows[0]?.name).toBe('User 249');
    expect(view.matching).toBe(250);
  });
});
