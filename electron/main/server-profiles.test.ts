import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_PROFILE_URLS, ServerProfileStore, type SecretCodec } from './server-profiles.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function path(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-profiles-'));
  dirs.push(dir);
  return join(dir, 'server-profiles.json');
}
const ROT13: SecretCodec = {
  encrypt: (plain) => `x:${[...plain].reverse().join('')}`,
  decrypt: (stored) => (stored.startsWith('x:') ? [...stored.slice(2)].reverse().join('') : null),
};

describe('ServerProfileStore', () => {
  it('saves a cluster profile with a token, normalising and deduplicating URLs', () => {
    const file = path();
    const store = new ServerProfileStore({ path: file, codec: ROT13 });
    const saved = store.save({
      label: ' ACME ',
      urls: ['chat1.acme.test:4000', 'http://chat2.acme.test:4000/', 'http://chat1.acme.test:4000'],
      auth: { kind: 'token', token: 'secret-token' },
    });
    expect(saved).toMatchObject({
      ok: true,
      value: {
        label: 'ACME',
        urls: ['http://chat1.acme.test:4000', 'http://chat2.acme.test:4000'],
      },
    });
    expect(readFileSync(file, 'utf8')).not.toContain('secret-token');
    const again = new ServerProfileStore({ path: file, codec: ROT13 }).list();
    expect(again.profiles[0]?.auth).toEqual({ kind: 'token', token: 'secret-token' });
  });

  it('switches the active profile and forgets it on removal', () => {
    const store = new ServerProfileStore({ path: path() });
    const a = store.save({
      label: 'A',
      urls: ['a.test'],
      auth: { kind: 'sign-in', displayName: 'Ana' },
    });
    const b = store.save({
      label: 'B',
      urls: ['b.test'],
      auth: { kind: 'sign-in', displayName: 'Ana' },
    });
    if (!a.ok || !b.ok) throw new Error('save failed');
    expect(store.activate(b.value.id)).toMatchObject({ ok: true, value: { activeId: b.value.id } });
    expect(store.activate('nope')).toMatchObject({ ok: false, code: 'not_found' });
    expect(store.remove(b.value.id)).toEqual({ ok: true, value: null });
    expect(store.list()).toMatchObject({ activeId: null, profiles: [{ label: 'A' }] });
    expect(store.urls()).toEqual(['http://a.test']);
  });

  it('updates in place by id and refuses unknown ids', () => {
    const store = new ServerProfileStore({ path: path() });
    const a = store.save({
      label: 'A',
      urls: ['a.test'],
      auth: { kind: 'sign-in', displayName: 'Ana' },
    });
    if (!a.ok) throw new Error('save failed');
    store.save({
      id: a.value.id,
      label: 'A2',
      urls: ['a2.test'],
      auth: { kind: 'sign-in', displayName: 'Ana' },
    });
    expect(store.list().profiles.map((p) => p.label)).toEqual(['A2']);
    expect(
      store.save({
        id: 'missing',
        label: 'X',
        urls: ['x.test'],
        auth: { kind: 'sign-in', displayName: 'X' },
      }),
    ).toMatchObject({
      ok: false,
      code: 'not_found',
    });
  });

  it('refuses bad input as values', () => {
    const store = new ServerProfileStore({ path: path() });
    const auth = { kind: 'sign-in' as const, displayName: 'Ana' };
    expect(store.save({ label: '', urls: ['a.test'], auth })).toMatchObject({
      ok: false,
      code: 'invalid_label',
    });
    expect(store.save({ label: 'A', urls: [], auth })).toMatchObject({
      ok: false,
      code: 'invalid_urls',
    });
    expect(store.save({ label: 'A', urls: ['ftp://a.test'], auth })).toMatchObject({
      ok: false,
      code: 'invalid_urls',
    });
    expect(
      store.save({
        label: 'A',
        urls: Array.from({ length: MAX_PROFILE_URLS + 1 }, (_, i) => `h${i}.test`),
        auth,
      }),
    ).toMatchObject({
      ok: false,
    });
    expect(store.list().profiles).toEqual([]);
  });

  it('shows an unreadable token as empty (sign in again) instead of failing', () => {
    const file = path();
    new ServerProfileStore({ path: file, codec: ROT13 }).save({
      label: 'A',
      urls: ['a.test'],
      auth: { kind: 'token', token: 't' },
    });
    const other: SecretCodec = { encrypt: (p) => p, decrypt: () => null };
    expect(new ServerProfileStore({ path: file, codec: other }).list().profiles[0]?.auth).toEqual({
      kind: 'token',
      token: '',
    });
  });
});
