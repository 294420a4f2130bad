/** UI state types. Wire types come from relay/protocol; these add what only the UI knows. */
import type { ChatInfo, UserInfo, WireMessage } from '../../relay/protocol/events.js';

/** A message as the UI shows it: confirmed by the relay, or one of ours still on its way. */
export interface UiMessage extends WireMessage {
  /** `sent`: stored by the relay (has a real seq). `pending`: queued or in flight. `failed`: refused. */
  status: 'sent' | 'pending' | 'failed';
  /** For failed messages: why, in the relay's words. */
  error?: string;
  /**
   * For failed messages: the relay's error code (relay/protocol/errors.ts), which says whether
   * sending again could succeed (`isPermanentSendError`).
   */
  errorCode?: string;
}

/** Why the relay refused one of our messages: its error code and its words. */
export interface SendFailure {
  code: string;
  message: string;
}

export interface ChatState extends ChatInfo {
  unread_count: number;
  read_seq: number;
  /** Newest message, for the sidebar preview. */
  last_message: WireMessage | null;
  /** Users in this chat right now (Phoenix Presence), with their device count. */
  present: Record<string, number>;
}

export interface Timeline {
  /** Confirmed messages, ordered by seq, no duplicates. */
  messages: UiMessage[];
  /** Own messages not yet confirmed, in the order they were written. */
  pending: UiMessage[];
  /** Older history exists on the relay. */
  hasOlder: boolean;
  loadingOlder: boolean;
  /** The highest seq seen without a gap before it (resume point). */
  syncedSeq: number;
}

export type ConnectionStatus = 'signed-out' | 'connecting' | 'online' | 'offline' | 'error';

export interface ConnectionError {
  code: 'unauthorized' | 'unreachable' | 'name_taken' | 'bad_passcode' | string;
  message: string;
}

export type Dialog =
  | null
  | 'new-room'
  | 'new-dm'
  | 'browse-rooms'
  | 'quick-switcher'
  | 'search'
  /** Desktop only: this computer's room, its addresses, fingerprint and invite. */
  | 'invite-people'
  /** Desktop only: the current relay's address and pinned certificate. */
  | 'about-server'
  /** Signing out, explained first (what it costs, the recovery code). */
  | 'sign-out'
  /** The recovery code (made anew) and codes that sign in another device. */
  | 'sign-in-codes';

export type { ChatInfo, UserInfo, WireMessage };
