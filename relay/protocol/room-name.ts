/**
 * A room's name as a `parley://` invite link carries it, to label the room for the invited
 * person before they sign in: at most HARD_LIMITS.chatNameChars characters (the relay's room
 * name limit), trimmed (as the relay stores names), and free of control, format and line or
 * paragraph separator characters (a link is anyone's text: no bidi overrides, no line breaks).
 * Shared by the desktop main process (writing and reading links) and the page (reading an
 * invite again from the bridge or from storage).
 */
import { HARD_LIMITS } from './events.js';

const LABEL = new RegExp(`^[^\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}]{1,${HARD_LIMITS.chatNameChars}}$`, 'u');

export function isInviteRoomName(name: string): boolean {
  return LABEL.test(name) && name.trim() === name;
}
