/** Texts and decisions for the tray, the dock badge and the Windows taskbar overlay. */

export function unreadLabel(count: number): string {
  if (!Number.isFinite(count) || count <= 0) return '';
  return count > 99 ? '99+' : String(Math.floor(count));
}

export interface TrayState {
  unread: number;
  hostingUrl: string | null;
  doNotDisturb: boolean;
}

export function trayTooltip(state: TrayState): string {
  const parts = ['Parley'];
  const label = unreadLabel(state.unread);
  if (label !== '') parts.push(`${label} unread`);
  if (state.hostingUrl !== null) parts.push(`hosting on ${state.hostingUrl}`);
  if (state.doNotDisturb) parts.push('do not disturb');
  return parts.join(' — ');
}

export type BadgeAction =
  | { kind: 'dock'; text: string }
  | { kind: 'overlay'; text: string; description: string }
  | { kind: 'count'; count: number };

/**
 * How to show the unread count on each platform: the dock badge on macOS, a taskbar overlay icon
 * on Windows, the launcher count elsewhere (Unity and KDE honour `app.setBadgeCount`).
 * Do-not-disturb hides it.
 */
export function badgeAction(platform: string, unread: number, doNotDisturb: boolean): BadgeAction {
  const count = doNotDisturb ? 0 : Math.max(0, Math.floor(unread));
  const text = unreadLabel(count);
  if (platform === 'darwin') return { kind: 'dock', text };
  if (platform === 'win32') {
    return { kind: 'overlay', text, description: text === '' ? '' : `${text} unread messages` };
  }
  return { kind: 'count', count };
}

export type TrayCommand = 'show' | 'toggle-dnd' | 'stop-hosting' | 'quit';

export interface TrayMenuItem {
  label: string;
  command: TrayCommand;
  type?: 'checkbox';
  checked?: boolean;
  enabled?: boolean;
}

/** The tray menu as data; main.ts turns it into an Electron Menu. */
export function trayMenu(state: TrayState): TrayMenuItem[] {
  return [
    { label: 'Open Parley', command: 'show' },
    {
      label: 'Do not disturb',
      command: 'toggle-dnd',
      type: 'checkbox',
      checked: state.doNotDisturb,
    },
    {
      label: state.hostingUrl === null ? 'Not hosting' : 'Stop hosting',
      command: 'stop-hosting',
      enabled: state.hostingUrl !== null,
    },
    // Quitting stops hosting cleanly first (goodbye packets, relay closed): see main.ts.
    { label: 'Quit Parley', command: 'quit' },
  ];
}
