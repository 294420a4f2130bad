import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_CHOSEN_RELAYS, RelayAllowList } from './relay-allow-list.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function path(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-allow-'));
  dirs.push(dir);
  return join(dir, 'allowed-relays.json');
}

describe('RelayAllowList', () => {
  it('combines chosen relays (persisted) with live ones', () => {
    const file = path();
    let live = ['http://10.200.0.1:4000'];
    const list = new RelayAllowList({ path: file, live: () => live });
    expect(list.allow('192.168.1.20:4000')).toEqual({
      ok: true,
      value: 'http://192.168.1.20:4000',
    });
    expect(list.all()).toEqual(['http://10.200.0.1:4000', 'http://192.168.1.20:4000']);
    live = [];
    expect(new RelayAllowList({ path: file, live: () => live }).all()).toEqual([
      'http://192.168.1.20:4000',
    ]);
  });

  it('refuses non-http addresses and ignores junk in live sources', () => {
    const list = new RelayAllowList({
      path: path(),
      live: () => ['javascript:alert(1)', 'http://ok.test'],
    });
    expect(list.allow('file:///etc/passwd')).toMatchObject({ ok: false, code: 'invalid_address' });
    expect(list.all()).toEqual(['http://ok.test']);
  });

  it('remembers a bounded number of chosen relays, oldest forgotten first', () => {
    const list = new RelayAllowList({ path: path(), live: () => [] });
    for (let i = 0; i <= MAX_CHOSEN_RELAYS; i += 1) list.allow(`h${i}.test:4000`);
    const all = list.all();
    expect(all).toHaveLength(MAX_CHOSEN_RELAYS);
    expect(all).not.toContain('http://h0.test:4000');
  });
});
