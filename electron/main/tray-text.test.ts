import { describe, expect, it } from 'vitest';
import { badgeAction, trayMenu, trayTooltip, unreadLabel } from './tray-text.js';

describe('tray and badge texts', () => {
  it('labels unread counts', () => {
    expect([0, -1, Number.NaN, 1, 42, 99, 100, 5000].map(unreadLabel)).toEqual([
      '',
      '',
      '',
      '1',
      '42',
      '99',
      '99+',
      '99+',
    ]);
  });

  it('uses the dock on macOS, an overlay on Windows, the launcher count elsewhere', () => {
    expect(badgeAction('darwin', 3, false)).toEqual({ kind: 'dock', text: '3' });
    expect(badgeAction('win32', 120, false)).toEqual({
      kind: 'overlay',
      text: '99+',
      description: '99+ unread messages',
    });
    expect(badgeAction('linux', 7, false)).toEqual({ kind: 'count', count: 7 });
  });

  it('hides the badge in do-not-disturb', () => {
    expect(badgeAction('darwin', 3, true)).toEqual({ kind: 'dock', text: '' });
    expect(badgeAction('win32', 3, true)).toEqual({ kind: 'overlay', text: '', description: '' });
    expect(badgeAction('linux', 3, true)).toEqual({ kind: 'count', count: 0 });
  });

  it('describes the state in the tooltip', () => {
    expect(trayTooltip({ unread: 0, hostingUrl: null, doNotDisturb: false })).toBe('Parley');
    expect(
      trayTooltip({ unread: 4, hostingUrl: 'http://127.0.0.1:4000', doNotDisturb: true }),
    ).toBe('Parley — 4 unread — hosting on http://127.0.0.1:4000 — do not disturb');
  });

  it('offers stop-hosting only while hosting, and always quit', () => {
    const idle = trayMenu({ unread: 0, hostingUrl: null, doNotDisturb: false });
    expect(idle.find((i) => i.command === 'stop-hosting')?.enabled).toBe(false);
    const hosting = trayMenu({
      unread: 0,
      hostingUrl: 'http://127.0.0.1:4000',
      doNotDisturb: true,
    });
    expect(hosting.find((i) => i.command === 'stop-hosting')).toMatchObject({
      enabled: true,
      label: 'Stop hosting',
    });
    expect(hosting.find((i) => i.command === 'toggle-dnd')?.checked).toBe(true);
    expect(hosting.at(-1)?.command).toBe('quit');
  });
});
