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

/** `edit_message` on `chat:<id>` (and `PATCH /api/chats/:id/messages/:message_id`). */
export const editMessagePayload = z.object({
  message_id: id,
  content: z.string().max(HARD_LIMITS.contentChars),
  /** Client-made, like mobile_ref_id: a retried edit with the same ref_id is applied once. */
  ref_id: z.string().min(1).max(HARD_LIMITS.mobileRefIdChars),
});
export type EditMessagePayload = z.infer<typeof editMessagePayload>;

/** `delete_message` on `chat:<id>` (and `DELETE /api/chats/:id/messages/:message_id`). */
export const deleteMessagePayload = z.object({ message_id: id });
export type DeleteMessagePayload = z.infer<typeof deleteMessagePayload>;

/** The HTTP body of an edit (the message id is in the path). */
export const editMessageRequest = editMessagePayload.omit({ message_id: true });

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
  /** When the text was last edited; null if never. */
  edited_at: string | null;
  /** When the message was deleted; null if not. A deleted message keeps no text (content ""). */
  deleted_at: string | null;
  /**
   * The stream seq of the latest event that changed this message (its own seq if none). A client
   * applies a change event only when the event's seq is greater, so events apply once, in any
   * order of arrival, over a message read before or after them.
   */
  version_seq: number;
}

/**
 * A change to a stored message, with its own place (`seq`) in the chat's event stream. Pushed
 * as the event named by `type` on `chat:<id>`, and listed in join replies and history pages.
 */
export type ChatEvent = MessageEdited | MessageDeleted;

/** `message_edited`: the message's text is now `content`. */
export interface MessageEdited {
  type: 'message_edited';
  chat_id: string;
  /** This event's place in the chat's stream. */
  seq: number;
  message_id: string;
  /** The edited message's own seq. */
  message_seq: number;
  sender_id: string;
  content: string;
  edited_at: string;
}

/** `message_deleted`: the message is a tombstone now; its text is gone everywhere. */
export interface MessageDeleted {
  type: 'message_deleted';
  chat_id: string;
  seq: number;
  message_id: string;
  message_seq: number;
  sender_id: string;
  /** Who deleted it (the author; a moderator once roles exist). */
  deleted_by: string;
  deleted_at: string;
}

/** The reply to `edit_message` / `delete_message` and the HTTP answer to PATCH / DELETE. */
export interface MessageChanged {
  /** The message as it stands after the change. */
  message: WireMessage;
  /** The event that made the change. */
  event: ChatEvent;
  /** True when this ref_id (or, for a delete, this deletion) was already applied. */
  duplicate: boolean;
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
  /**
   * The change events with seq > since_seq that fit in this reply (edits and deletes of
   * messages, older ones included), oldest first. `messages` are already in their current
   * state; these tell a client that resumes what changed in the messages it holds.
   */
  events: ChatEvent[];
  /** The event-stream version this relay speaks: {@link STREAM_VERSION}. */
  stream_version: number;
  last_seq: number;
  /** True when more messages exist after `since_seq` than fit: page the rest over HTTP. */
  has_more: boolean;
  read_seq: number;
}

/**
 * `GET /api/chats/:id/messages`. With `after_seq` it is a window of the stream: the messages and
 * change events with seq in (after_seq, the last seq listed]; page on from the largest seq of
 * either. With `before_seq` (or neither) it is the newest messages before it, in their current
 * state, and the events are empty.
 */
export interface HistoryPage {
  messages: WireMessage[];
  events: ChatEvent[];
  has_more: boolean;
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
  editMessage: 'edit_message',
  deleteMessage: 'delete_message',
  messageEdited: 'message_edited',
  messageDeleted: 'message_deleted',
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

/**
 * The chat event stream's version, in every join reply (`stream_version`). 1: append-only
 * messages (never sent). 2: messages can be edited and deleted; every change takes the chat's
 * next seq (relay/PROTOCOL.md, "The event stream").
 */
export const STREAM_VERSION = 2;
