import { describe, expect, it } from 'vitest';
import type { Invite } from '../shared/bridge.js';
import { InviteInbox, secondInstanceAction } from './single-instance.js';

const invite = (host: string): Invite => ({
  host,
  port: 4000,
  room: null,
  roomName: null,
  fingerprint: null,
  url: `http://${host}:4000`,
});

describe('second instance', () => {
  it('focuses the running app, opening the invite it was started with', () => {
    expect(secondInstanceAction(['/opt/Parley/parley'])).toEqual({ kind: 'focus' });
    expect(
      secondInstanceAction(['/opt/Parley/parley', 'parley://join?host=10.0.0.5']),
    ).toMatchObject({
      kind: 'open-invite',
      invite: { host: '10.0.0.5', port: 4000 },
    });
    expect(secondInstanceAction(['parley', 'parley://join?host='])).toMatchObject({
      kind: 'bad-invite',
    });
  });
});

describe('InviteInbox', () => {
  it('keeps the newest invite until it is taken, once', () => {
    const inbox = new InviteInbox();
    inbox.put(invite('a.test'));
    inbox.put(invite('b.test'));
    expect(inbox.take()?.host).toBe('b.test');
    expect(inbox.take()).toBeNull();
  });

  it('delivers at once when the window listens', () => {
    const inbox = new InviteInbox();
    const seen: string[] = [];
    inbox.setDeliver((i) => seen.push(i.host));
    inbox.put(invite('c.test'));
    expect(seen).toEqual(['c.test']);
    expect(inbox.take()).toBeNull();
  });
});
