import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isDisplayName, isRoomName, normalizeName } from '../protocol/display-name.js';
import { isInviteRoomName } from '../protocol/room-name.js';
import { backfillSkeletons, nameSkeleton, skeleton } from './name-key.js';
import { SQLITE_MIGRATIONS } from '../store/sqlite/sqlite-migrations.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { nameKey } from './name-key.js';
import { removeDir } from '../testing/relay-harness.js';

describe('nameSkeleton', () => {
  it('is the UTS #39 skeleton of the case-folded NFKC name', () => {
    expect(skeleton('paypal')).toBe('paypal');
    expect(skeleton('\u0440\u0430\u0443\u0440\u0430l')).toBe('paypal'); // Cyrillic р а у р а
    expect(skeleton('m')).toBe('rn');
    expect(skeleton('a\u00AD\u200Bb')).toBe('ab'); // default-ignorables removed
    const same = [
      'Alice',
      'alice',
      'ALICE',
      '\u0410lice',
      'Alic\u0435',
      'Alice\uFE0F',
      '\uFF21lice',
    ];
    expect(new Set(same.map(nameSkeleton))).toEqual(new Set(['alice']));
    expect(nameSkeleton('b0b')).toBe(nameSkeleton('bob'));
    expect(nameSkeleton('Stra\u00DFe')).toBe(nameSkeleton('STRASSE'));
    expect(nameSkeleton('Ana  Lopez')).toBe(nameSkeleton('Ana Lopez'));
    for (const [a, b] of [
      ['Alice', 'Alicia'],
      ['Zoë', 'Zoe'],
      ['李雷', '李电'],
    ] as const) {
      expect(nameSkeleton(a), `${a} / ${b}`).not.toBe(nameSkeleton(b));
    }
  });

  it('backfills the oldest of clashing names only', () => {
    const keys = backfillSkeletons([
      { id: 'u1', name: 'Alice' },
      { id: 'u2', name: '\u0410lice' },
      { id: 'u3', name: 'Bob' },
    ]);
    expect([...keys]).toEqual([
      ['u1', 'alice'],
      ['u2', null],
      ['u3', 'bob'],
    ]);
  });
});

describe('the name rules (relay/protocol/display-name.ts)', () => {
  it('accepts names in any script and refuses blank, control and invisible ones', () => {
    for (const name of ['Ana', 'Zoë', '李雷', 'Bo ❤️', 'O’Neil', '🙂']) {
      expect(isDisplayName(normalizeName(name)), name).toBe(true);
    }
    for (const name of [
      '',
      ' ',
      '\u3164',
      'a\u0000',
      'a\u202Eb',
      'a\u200Bb',
      'x\u2800',
      '\u0301',
    ]) {
      expect(isDisplayName(normalizeName(name)), JSON.stringify(name)).toBe(false);
    }
    expect(isDisplayName('a'.repeat(64))).toBe(true);
    expect(isDisplayName('a'.repeat(65))).toBe(false);
    expect(isRoomName('a'.repeat(80))).toBe(true);
    expect(isRoomName('a\nb')).toBe(false);
    // Invites label rooms by the same rule.
    expect(isInviteRoomName('Design')).toBe(true);
    expect(isInviteRoomName('\u200B')).toBe(false);
  });
});

describe('SQLite migration 4 on a database with clashing names', () => {
  it('keeps every existing user and public room, keys the oldest, and refuses new clashes', async () => {
    const dir = mkdtempSync(joinPath(tmpdir(), 'parley-name-key-'));
    const path = joinPath(dir, 'parley.db');
    try {
      // The schema as it was before the migration that brought name keys.
      const before = SQLITE_MIGRATIONS.findIndex((sql) => sql.includes('name_skeleton'));
      const db = new Database(path);
      SQLITE_MIGRATIONS.slice(0, before).forEach((sql) => db.exec(sql));
      db.pragma(`user_version = ${before}`);
      const addUser = db.prepare(
        'INSERT INTO users (id, name, name_key, created_at) VALUES (?, ?, ?, ?)',
      );
      addUser.run('u1', 'Alice', nameKey('Alice'), '2026-01-01T00:00:00.000Z');
      addUser.run('u2', '\u0410lice', nameKey('\u0410lice'), '2026-01-02T00:00:00.000Z');
      // An identity-provider user (its key carries its id): no name key, blocks nothing.
      addUser.run('idp', 'Bob', `${nameKey('Bob')}#idp`, '2026-01-03T00:00:00.000Z');
      const addRoom =
        db.prepare(`INSERT INTO chats (id, kind, name, visibility, is_main, created_at)
        VALUES (?, 'room', ?, ?, ?, ?)`);
      addRoom.run('c2', 'General', 'public', 0, '2026-01-01T00:00:00.000Z');
      addRoom.run('c1', 'general', 'public', 1, '2026-01-02T00:00:00.000Z');
      addRoom.run('c3', 'general', 'private', 0, '2026-01-03T00:00:00.000Z');
      db.close();

      const store = new SqliteStore({ path, synchronous: 'NORMAL', maxPendingPerUser: 10 });
      try {
        expect((await store.listUsers(10)).map((u) => u.name).sort()).toEqual(
          ['Alice', 'Bob', '\u0410lice'].sort(),
        );
        const now = new Date('2026-02-01T00:00:00.000Z');
        expect(await store.createUser({ id: 'n1', name: 'ALICE', now })).toBeNull();
        expect(await store.createUser({ id: 'n2', name: 'Bob', now })).not.toBeNull();
        await expect(
          store.createChat({
            id: 'c4',
            name: 'GENERAL',
            visibility: 'public',
            ephemeralTtlS: null,
            isMain: false,
            createdBy: null,
            now,
          }),
        ).rejects.toMatchObject({ code: 'name_taken' });
        expect((await store.listPublicChats(10)).map((c) => c.id).sort()).toEqual(['c1', 'c2']);
      } finally {
        await store.close();
      }
      const check = new Database(path, { readonly: true });
      const keys = check.prepare('SELECT id, name_skeleton FROM users ORDER BY id').all() as {
        id: string;
        name_skeleton: string | null;
      }[];
      const roomKeys = check.prepare('SELECT id, name_skeleton FROM chats ORDER BY id').all() as {
        id: string;
        name_skeleton: string | null;
      }[];
      check.close();
      expect(keys).toEqual([
        { id: 'idp', name_skeleton: null },
        { id: 'n2', name_skeleton: 'bob' },
        { id: 'u1', name_skeleton: 'alice' },
        { id: 'u2', name_skeleton: null },
      ]);
      // The main room holds its key even though the other "General" is older.
      expect(roomKeys).toEqual([
        { id: 'c1', name_skeleton: 'general' },
        { id: 'c2', name_skeleton: null },
        { id: 'c3', name_skeleton: null },
      ]);
    } finally {
      removeDir(dir);
    }
  });
});
