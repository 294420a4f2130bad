/**
 * Single-instance behaviour, without Electron: what to do when a second copy of the app starts
 * (focus the first; open the invite it was started with), and invites that arrive before the
 * window is ready to hear them.
 */
import type { Invite } from '../shared/bridge.js';
import { findDeepLink, parseDeepLink } from './deep-link.js';

export type SecondInstanceAction =
  | { kind: 'focus' }
  | { kind: 'open-invite'; invite: Invite }
  | { kind: 'bad-invite'; message: string };

export function secondInstanceAction(argv: readonly string[]): SecondInstanceAction {
  const link = findDeepLink(argv);
  if (link === null) return { kind: 'focus' };
  const parsed = parseDeepLink(link);
  return parsed.ok
    ? { kind: 'open-invite', invite: parsed.value }
    : { kind: 'bad-invite', message: parsed.message };
}

/**
 * Holds the newest invite until the renderer takes it (at start-up) and delivers later ones at
 * once when a listener is ready. Only one is kept: an older unanswered invite is superseded.
 */
export class InviteInbox {
  #pending: Invite | null = null;
  #deliver: ((invite: Invite) => void) | null = null;

  put(invite: Invite): void {
    if (this.#deliver !== null) this.#deliver(invite);
    else this.#pending = invite;
  }

  take(): Invite | null {
    const invite = this.#pending;
    this.#pending = null;
    return invite;
  }

  /** Called once the window has loaded; pending invites stay for take(). */
  setDeliver(deliver: ((invite: Invite) => void) | null): void {
    this.#deliver = deliver;
  }
}
