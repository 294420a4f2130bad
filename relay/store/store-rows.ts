/**
 * The rows both Store backends read, and their mapping to the wire shapes, written once. The
 * drivers differ only in how a time and a flag come back (SQLite: ISO text and 0/1;
 * PostgreSQL through `pg`: Date and boolean), which a {@link RowCodec} says.
 */
import type {
  ChatEvent,
  ChatInfo,
  NotificationPayload,
  SearchPage,
  WireMessage,
} from '../protocol/events.js';

export interface ChatRow<Time, Flag> {
  id: string;
  kind: 'room' | 'dm';
  name: string;
  visibility: 'public' | 'private';
  ephemeral_ttl_s: number | null;
  is_main: Flag;
  dm_key: string | null;
  last_seq: number;
  created_at: Time;
}

export interface MessageRow<Time> {
  chat_id: string;
  seq: number;
  id: string;
  sender_id: string;
  sender_name: string;
  content: string;
  mobile_ref_id: string;
  created_at: Time;
  expires_at: Time | null;
  edited_at: Time | null;
  deleted_at: Time | null;
  version_seq: number;
}

/** A stored change event with its message's id and author (EVENT_COLUMNS). */
export interface EventRow<Time> {
  chat_id: string;
  seq: number;
  kind: 'edit' | 'delete';
  message_seq: number;
  message_id: string;
  sender_id: string;
  actor_id: string;
  /** An edit's text; null for a delete, and for an edit of a message deleted since. */
  content: string | null;
  created_at: Time;
}

/** A pending notification as stored: the wire payload with the driver's time and flag. */
export type PendingRow<Time, Flag> = Omit<NotificationPayload, 'id' | 'timestamp' | 'mentioned'> & {
  id: number;
  created_at: Time;
  mentioned: Flag;
};

/** How one driver returns times and flags. */
export interface RowCodec<Time, Flag> {
  time(value: Time): string;
  flag(value: Flag): boolean;
}

/** The columns a MessageRow is read from (`m`: messages, `u`: its sender). */
export const MESSAGE_COLUMNS = `m.chat_id, m.seq, m.id, m.sender_id, u.name AS sender_name, m.content,
  m.mobile_ref_id, m.created_at, m.expires_at, m.edited_at, m.deleted_at,
  COALESCE(m.version_seq, m.seq) AS version_seq`;

/** The columns an EventRow is read from (`e`: chat_events, `m`: the message it changed). */
export const EVENT_COLUMNS = `e.chat_id, e.seq, e.kind, e.message_seq, m.id AS message_id,
  m.sender_id, e.actor_id, e.content, e.created_at`;

/** Unread counts stop counting here; the UI shows "9999+". */
export const UNREAD_COUNT_CAP = 9_999;

/** Row → wire mappers for one driver's codec. */
export function rowMappers<Time, Flag>(codec: RowCodec<Time, Flag>) {
  const { time, flag } = codec;
  const message = (row: MessageRow<Time>): WireMessage => ({
    chat_id: row.chat_id,
    message_id: row.id,
    seq: row.seq,
    content: row.content,
    sender_id: row.sender_id,
    sender_name: row.sender_name,
    timestamp: time(row.created_at),
    expires_at: row.expires_at === null ? null : time(row.expires_at),
    mobile_ref_id: row.mobile_ref_id,
    edited_at: row.edited_at === null ? null : time(row.edited_at),
    deleted_at: row.deleted_at === null ? null : time(row.deleted_at),
    version_seq: row.version_seq,
  });
  const event = (row: EventRow<Time>): ChatEvent => {
    const base = {
      chat_id: row.chat_id,
      seq: row.seq,
      message_id: row.message_id,
      message_seq: row.message_seq,
      sender_id: row.sender_id,
    };
    return row.kind === 'edit'
      ? {
          type: 'message_edited',
          ...base,
          content: row.content ?? '',
          edited_at: time(row.created_at),
        }
      : {
          type: 'message_deleted',
          ...base,
          deleted_by: row.actor_id,
          deleted_at: time(row.created_at),
        };
  };
  return {
    chat: (row: ChatRow<Time, Flag>): ChatInfo => ({
      id: row.id,
      kind: row.kind,
      name: row.name,
      visibility: row.visibility,
      ephemeral_ttl_s: row.ephemeral_ttl_s,
      is_main: flag(row.is_main),
      dm_user_ids: row.dm_key === null ? [] : row.dm_key.split('|'),
      last_seq: row.last_seq,
      created_at: time(row.created_at),
    }),
    message,
    event,
    pending: (row: PendingRow<Time, Flag>): NotificationPayload => ({
      id: row.id,
      chat_id: row.chat_id,
      chat_name: row.chat_name,
      message_id: row.message_id,
      seq: row.seq,
      sender_id: row.sender_id,
      sender_name: row.sender_name,
      content: row.content,
      timestamp: time(row.created_at),
      mentioned: flag(row.mentioned),
    }),
    /**
     * A search page from rows read with `limit + 1` (the extra row only says that more exist);
     * `position` is the store's `next` for the last row shown.
     */
    searchPage: <Row extends MessageRow<Time>>(
      rows: readonly Row[],
      limit: number,
      position: (row: Row) => string,
    ): SearchPage => {
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        messages: page.map(message),
        next: rows.length > limit && last !== undefined ? position(last) : null,
      };
    },
  };
}
