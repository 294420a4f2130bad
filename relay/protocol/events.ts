/**
 * The wire contract: what clients push, what the relay pushes back, and the HTTP bodies.
 * Runtime validators (zod) are the source of truth; the TypeScript types derive from them,
 * so the relay and the UI validate with the same code.
 */
import { z } from 'zod';

/** Absolute ceilings; the relay's configurable limits are at most these. */
export const HARD_LIMITS = {
  contentChars: 100_000,
  mobileRefIdChars: 128,
  nameChars: 64,
  chatNameChars: 80,
  historyPage: 500,
  ackIds: 1_000,
  searchChars: 256,
  searchTerms: 8,
  searchTermChars: 64,
  searchPage: 50,
} as const;

const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const id = z.string().min(1).max(64);

// ---- client → relay, over the socket ---------------------------------------------------------

export const chatJoinParams = z.object({
  since_seq: seq.optional(),
});
export type ChatJoinParams = z.infer<typeof chatJoinParams>;

export const sendMessagePayload = z.object({
  content: z.string().max(HARD_LIMITS.contentChars),
  mobile_ref_id: z.string().min(1).max(HARD_LIMITS.mobileRefIdChars),
});
export type SendMessagePayload = z.infer<typeof sendMessagePayload>;

export const typingPayload = z.object({ typing: z.boolean() });
export type TypingPayload = z.infer<typeof typingPayload>;

export const readPayload = z.object({ seq });
export type ReadPayload = z.infer<typeof readPayload>;

export const ackNotificationsPayload = z.object({
  ids: z.array(z.number().int().min(1)).max(HARD_LIMITS.ackIds),
});
export type AckNotificationsPayload = z.infer<typeof ackNotificationsPayload>;

// ---- HTTP bodies -----------------------------------------------------------------------------

export const sessionRequest = z.object({
  name: z.string().max(HARD_LIMITS.nameChars * 4),
  device_unique_id: z.string().min(1).max(128),
  passcode: z.string().max(256).optional(),
});
export type SessionRequest = z.infer<typeof sessionRequest>;

/** The shortest and longest time after which a vanishing room's messages may vanish (seconds). */
export const EPHEMERAL_TTL_MIN_S = 1;
export const EPHEMERAL_TTL_MAX_S = 30 * 24 * 3600;

export const createChatRequest = z.object({
  name: z.string().min(1).max(HARD_LIMITS.chatNameChars),
  visibility: z.enum(['public', 'private']),
  ephemeral_ttl_s: z.number().int().min(EPHEMERAL_TTL_MIN_S).max(EPHEMERAL_TTL_MAX_S).optional(),
});
export type CreateChatRequest = z.infer<typeof createChatRequest>;

export const addMemberRequest = z.object({ user_id: id });
export const dmRequest = z.object({ user_id: id });
export const historyQuery = z.object({
  before_seq: z.coerce.number().int().min(1).optional(),
  after_seq: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(HARD_LIMITS.historyPage).optional(),
});
export type HistoryQuery = z.infer<typeof historyQuery>;

/** `GET /api/search`: `before` is the `next` of the previous page, as the relay gave it. */
export const searchQuery = z.object({
  q: z.string().max(HARD_LIMITS.searchChars),
  chat_id: id.optional(),
  before: z
    .string()
    .regex(/^[0-9A-Za-z:.\-_]{1,80}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(HARD_LIMITS.searchPage).optional(),
});
export type SearchQuery = z.infer<typeof searchQuery>;

// ---- relay → client --------------------------------------------------------------------------

export type ChatKind = 'room' | 'dm';
export type Visibility = 'public' | 'private';

export interface UserInfo {
  id: string;
  name: string;
}

export interface ChatInfo {
  id: string;
  kind: ChatKind;
  name: string;
  visibility: Visibility;
  /** Messages vanish this many seconds after they were sent; null for normal chats. */
  ephemeral_ttl_s: number | null;
  /** The relay's main room, which every new user joins. */
  is_main: boolean;
  /** For DMs: both user ids. For rooms: empty (ask /api/chats/:id for members). */
  dm_user_ids: string[];
  last_seq: number;
  created_at: string;
}

/** A stored message as it travels on the wire (`receive_message`, join replies, history). */
export interface WireMessage {
  chat_id: string;
  message_id: string;
  seq: number;
  content: string;
  sender_id: string;
  sender_name: string;
  /** ISO 8601 UTC with milliseconds. */
  timestamp: string;
  /** For ephemeral chats: when the message is deleted. */
  expires_at: string | null;
  mobile_ref_id: string;
}

export interface MessageSent {
  mobile_ref_id: string;
  status: 'sent' | 'error';
  chat_id: string;
  message_id: string | null;
  seq: number | null;
  timestamp: string | null;
  /** Only on `status: "error"`: an error code from ERROR_CODES. */
  reason?: string;
  message?: string;
  /** True when the mobile_ref_id was already stored and this is the original message. */
  duplicate?: boolean;
}

export interface ChatJoinReply {
  chat: ChatInfo;
  messages: WireMessage[];
  last_seq: number;
  /** True when more messages exist after `since_seq` than fit: page the rest over HTTP. */
  has_more: boolean;
  read_seq: number;
}

export interface TypingUpdate {
  chat_id: string;
  user_ids: string[];
}

export interface NotificationPayload {
  /** Present on pending notifications: acknowledge with `ack_notifications {ids}`. */
  id?: number;
  chat_id: string;
  chat_name: string;
  message_id: string;
  seq: number;
  sender_id: string;
  sender_name: string;
  content: string;
  timestamp: string;
  mentioned: boolean;
}

export interface PendingNotifications {
  notifications: NotificationPayload[];
  /** True when more are stored than fit in one push; ack these to receive the next batch. */
  has_more: boolean;
}

export interface PresenceMeta {
  phx_ref: string;
  device_unique_id: string;
  name: string;
  online_at: string;
}
export type PresenceState = Record<string, { metas: PresenceMeta[] }>;
export interface PresenceDiff {
  joins: PresenceState;
  leaves: PresenceState;
}

/** `chat_added` / `chat_removed` on `notifications:<user_id>`: a membership of this user changed. */
export interface ChatMembershipChange {
  chat_id: string;
}

/** `GET /api/search`: matches newest first; `next` fetches the older ones (null: no more). */
export interface SearchPage {
  messages: WireMessage[];
  next: string | null;
}

export interface ChatSummary extends ChatInfo {
  unread_count: number;
  read_seq: number;
  last_message: WireMessage | null;
}

/** Event names, so both sides spell them once. */
export const EVENTS = {
  join: 'phx_join',
  leave: 'phx_leave',
  reply: 'phx_reply',
  error: 'phx_error',
  close: 'phx_close',
  heartbeat: 'heartbeat',
  sendMessage: 'send_message',
  messageSent: 'message_sent',
  receiveMessage: 'receive_message',
  typing: 'typing',
  typingUpdate: 'typing_update',
  read: 'read',
  presenceState: 'presence_state',
  presenceDiff: 'presence_diff',
  newNotification: 'new_notification',
  pendingNotifications: 'pending_notifications',
  pendingNotification: 'pending_notification',
  ackNotifications: 'ack_notifications',
  chatAdded: 'chat_added',
  chatRemoved: 'chat_removed',
} as const;

export const PROTOCOL_VERSION = 1;
