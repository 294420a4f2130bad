/**
 * Runtime validators for what the relay sends (socket pushes, replies, HTTP answers), so a
 * client trusts the wire no more than the relay does. Each schema's output type is checked at
 * compile time against the interface in events.ts it validates (`CHECKS` below): the two cannot
 * drift apart.
 *
 * Tolerance: `edited_at`, `deleted_at` and `version_seq` of a message, and the `events` of a join
 * reply or history page, are filled in when absent (null, null, the message's own seq, []). A
 * message cached by an older client, or sent by a relay of stream version 1, is an unedited,
 * undeleted message; nothing else is assumed.
 */
import { z } from 'zod';
import type {
  ChatEvent,
  ChatInfo,
  ChatJoinReply,
  ChatMembershipChange,
  ChatSummary,
  HistoryPage,
  MessageChanged,
  MessageDeleted,
  MessageEdited,
  MessageSent,
  NotificationPayload,
  PendingNotifications,
  SearchPage,
  TypingUpdate,
  UserInfo,
  WireMessage,
} from './events.js';

const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const text = z.string();

export const userInfoSchema = z.object({ id: text, name: text });

export const chatInfoSchema = z.object({
  id: text,
  kind: z.enum(['room', 'dm']),
  name: text,
  visibility: z.enum(['public', 'private']),
  ephemeral_ttl_s: z.number().int().nullable(),
  is_main: z.boolean(),
  dm_user_ids: z.array(text),
  last_seq: seq,
  created_at: text,
});

export const wireMessageSchema = z
  .object({
    chat_id: text,
    message_id: text,
    seq,
    content: text,
    sender_id: text,
    sender_name: text,
    timestamp: text,
    expires_at: text.nullable(),
    mobile_ref_id: text,
    edited_at: text.nullable().default(null),
    deleted_at: text.nullable().default(null),
    version_seq: seq.optional(),
  })
  .transform(({ version_seq, ...message }) => ({
    ...message,
    version_seq: version_seq ?? message.seq,
  }));

const eventBase = {
  chat_id: text,
  seq: seq.min(1),
  message_id: text,
  message_seq: seq.min(1),
  sender_id: text,
};

export const messageEditedSchema = z.object({
  type: z.literal('message_edited'),
  ...eventBase,
  content: text,
  edited_at: text,
});

export const messageDeletedSchema = z.object({
  type: z.literal('message_deleted'),
  ...eventBase,
  deleted_by: text,
  deleted_at: text,
});

export const chatEventSchema = z.discriminatedUnion('type', [
  messageEditedSchema,
  messageDeletedSchema,
]);

export const messageChangedSchema = z.object({
  message: wireMessageSchema,
  event: chatEventSchema,
  duplicate: z.boolean(),
});

export const messageSentSchema = z.object({
  mobile_ref_id: text,
  status: z.enum(['sent', 'error']),
  chat_id: text,
  message_id: text.nullable(),
  seq: seq.nullable(),
  timestamp: text.nullable(),
  reason: text.optional(),
  message: text.optional(),
  duplicate: z.boolean().optional(),
});

export const chatJoinReplySchema = z.object({
  chat: chatInfoSchema,
  messages: z.array(wireMessageSchema),
  events: z.array(chatEventSchema).default([]),
  stream_version: z.number().int().default(1),
  last_seq: seq,
  has_more: z.boolean(),
  read_seq: seq,
});

export const historyPageSchema = z.object({
  messages: z.array(wireMessageSchema),
  events: z.array(chatEventSchema).default([]),
  has_more: z.boolean(),
});

export const typingUpdateSchema = z.object({ chat_id: text, user_ids: z.array(text) });

export const notificationPayloadSchema = z.object({
  id: z.number().int().optional(),
  chat_id: text,
  chat_name: text,
  message_id: text,
  seq,
  sender_id: text,
  sender_name: text,
  content: text,
  timestamp: text,
  mentioned: z.boolean(),
});

export const pendingNotificationsSchema = z.object({
  notifications: z.array(notificationPayloadSchema),
  has_more: z.boolean(),
});

export const chatMembershipChangeSchema = z.object({ chat_id: text });

export const searchPageSchema = z.object({
  messages: z.array(wireMessageSchema),
  next: text.nullable(),
});

export const chatSummarySchema = chatInfoSchema.extend({
  unread_count: z.number().int().min(0),
  read_seq: seq,
  last_message: wireMessageSchema.nullable(),
});

/** An error reply on a channel (`{reason}`), and the `error` body of an HTTP answer. */
export const errorReplySchema = z.object({ reason: text.optional(), message: text.optional() });

// ---- HTTP answer envelopes -------------------------------------------------------------------

export const usersAnswerSchema = z.object({ users: z.array(userInfoSchema) });
export const chatsAnswerSchema = z.object({ chats: z.array(chatSummarySchema) });
export const publicChatsAnswerSchema = z.object({ chats: z.array(chatInfoSchema) });
export const chatAnswerSchema = z.object({ chat: chatInfoSchema });
export const chatDetailsAnswerSchema = z.object({
  chat: chatInfoSchema,
  members: z.array(userInfoSchema),
});
export const readAnswerSchema = z.object({ read_seq: seq });

// ---- compile-time agreement with events.ts ----------------------------------------------------

/** `true` when A and B are assignable both ways; otherwise `never`, which fails `CHECKS`. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;

/** Fails to compile when a schema above and its interface disagree. */
export const WIRE_SCHEMA_CHECKS: readonly true[] = [
  true satisfies Same<z.infer<typeof userInfoSchema>, UserInfo>,
  true satisfies Same<z.infer<typeof chatInfoSchema>, ChatInfo>,
  true satisfies Same<z.infer<typeof wireMessageSchema>, WireMessage>,
  true satisfies Same<z.infer<typeof messageEditedSchema>, MessageEdited>,
  true satisfies Same<z.infer<typeof messageDeletedSchema>, MessageDeleted>,
  true satisfies Same<z.infer<typeof chatEventSchema>, ChatEvent>,
  true satisfies Same<z.infer<typeof messageChangedSchema>, MessageChanged>,
  true satisfies Same<z.infer<typeof messageSentSchema>, MessageSent>,
  true satisfies Same<z.infer<typeof chatJoinReplySchema>, ChatJoinReply>,
  true satisfies Same<z.infer<typeof historyPageSchema>, HistoryPage>,
  true satisfies Same<z.infer<typeof typingUpdateSchema>, TypingUpdate>,
  true satisfies Same<z.infer<typeof notificationPayloadSchema>, NotificationPayload>,
  true satisfies Same<z.infer<typeof pendingNotificationsSchema>, PendingNotifications>,
  true satisfies Same<z.infer<typeof chatMembershipChangeSchema>, ChatMembershipChange>,
  true satisfies Same<z.infer<typeof searchPageSchema>, SearchPage>,
  true satisfies Same<z.infer<typeof chatSummarySchema>, ChatSummary>,
];
