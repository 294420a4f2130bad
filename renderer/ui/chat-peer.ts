import type { ChatState } from '../state/types.js';

/** The other person of a DM (or oneself, for a DM with oneself). */
export function dmPeer(chat: Pick<ChatState, 'dm_user_ids'>, myId: string | null): string {
  return chat.dm_user_ids.find((id) => id !== myId) ?? chat.dm_user_ids[0] ?? '';
}
