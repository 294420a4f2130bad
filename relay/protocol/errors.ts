/**
 * Every error code and close code the relay uses. Each is documented in relay/PROTOCOL.md;
 * clients switch on `code` (or `reason` in Phoenix replies), never on the human message.
 */
export const ERROR_CODES = {
  malformed_frame: 'The frame is not a Phoenix V2 JSON frame; the socket is closed with 1007.',
  invalid_payload:
    'The payload does not match the event schema (wrong type, missing or extra-large field).',
  unknown_topic: 'The topic is neither chat:<id> nor notifications:<user_id>.',
  unknown_event: 'The event is not defined for this topic.',
  'unmatched topic':
    'An event was pushed to a topic this connection has not joined (Phoenix wording).',
  unauthorized:
    'The token is missing, expired, tampered or signed by another key, or the topic belongs to another user.',
  not_found: 'The chat, user or route does not exist.',
  not_member: 'The user is not a member of this private chat or DM.',
  too_many_joins: 'This connection joined more topics than the limit allows.',
  message_too_long: 'The message content is longer than the configured limit.',
  empty_message: 'The message content is empty or only whitespace.',
  rate_limited: 'Too many messages, typing events or requests in a short time; retry later.',
  overloaded:
    'The write queue is full; the message was not stored. Retry with the same mobile_ref_id.',
  storage_error:
    'The database refused the write (I/O error, unreachable). Nothing was stored; retry.',
  storage_full:
    "The relay's disk is full. Nothing was stored; retry with the same mobile_ref_id later.",
  storage_read_only:
    "The relay's data folder is read-only. Nothing was stored; retry with the same mobile_ref_id later.",
  name_taken:
    'That display name belongs to another user; sign in with a token, recovery code or device-link code of that user to add a device.',
  bad_passcode: 'The relay passcode is missing or wrong.',
  bad_recovery_code:
    'The name and code do not match: the name is unknown, or the recovery or device-link code is wrong, used or expired (deliberately not told apart).',
  sessions_disabled:
    'This relay verifies tokens from an identity provider and does not issue its own.',
  invalid_name: 'Display names are 1 to 64 characters, not only whitespace.',
  forbidden:
    "The user may not do this to this message or chat (editing or deleting another user's message).",
  message_deleted: 'The message was deleted; it can no longer be edited.',
  message_expired: 'The message was in a vanishing room and has expired.',
  dm_with_self: 'A DM needs two different users.',
  body_too_large: 'The HTTP body exceeds the configured limit.',
  bad_request:
    'HTTP could not parse the request (unknown method, bad target, conflicting framing); the connection is closed.',
  headers_too_large: 'The HTTP request headers exceed 16 KB; the connection is closed.',
  request_timeout:
    'The HTTP request (headers within 10 s, whole request within 30 s) was not received in time; the connection is closed.',
  unsupported_media_type: 'HTTP bodies must be application/json.',
  method_not_allowed: 'The route exists but not for this HTTP method.',
  internal_error: 'An unexpected error; it is logged with a request id.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** WebSocket close codes the relay sends. */
export const CLOSE_CODES = {
  /** The relay is shutting down (SIGTERM, close()). */
  GOING_AWAY: 1001,
  /** A binary frame arrived; Parley speaks JSON text frames only. */
  UNSUPPORTED_DATA: 1003,
  /** The frame is not valid UTF-8 or not a Phoenix V2 JSON frame. */
  INVALID_FRAME: 1007,
  /** The connection kept breaking a limit after being told (flood). */
  POLICY_VIOLATION: 1008,
  /** The frame is larger than maxPayload (sent by `ws` itself). */
  MESSAGE_TOO_BIG: 1009,
  /** Unexpected server error on this connection. */
  INTERNAL_ERROR: 1011,
  /** No frame (not even a heartbeat) arrived within heartbeatTimeoutMs. */
  HEARTBEAT_TIMEOUT: 4000,
  /** The client does not read: its send buffer grew past maxBufferedBytes. */
  SLOW_CONSUMER: 4001,
  /** The user's token expired or was revoked while connected. */
  TOKEN_EXPIRED: 4003,
} as const;

/** The value shape of an expected failure (STYLE.md: expected failures are values). */
export interface Failure {
  ok: false;
  code: ErrorCode;
  message: string;
}

export function failure(code: ErrorCode, message: string = ERROR_CODES[code]): Failure {
  return { ok: false, code, message };
}
