/**
 * A room's name as a `parley://` invite link carries it, to label the room for the invited
 * person before they sign in: the relay's rule for room names (display-name.ts, isRoomName: at
 * most HARD_LIMITS.chatNameChars characters, trimmed, something visible, and no control, format,
 * invisible, line or paragraph separator characters: a link is anyone's text, so no bidi
 * overrides and no line breaks). Shared by the desktop main process (writing and reading links)
 * and the page (reading an invite again from the bridge or from storage).
 */
import { isRoomName } from './display-name.js';

export function isInviteRoomName(name: string): boolean {
  return isRoomName(name);
}
