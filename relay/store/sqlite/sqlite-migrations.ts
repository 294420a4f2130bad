/**
 * Versioned schema for the SQLite store. Each entry moves `PRAGMA user_version` one step;
 * entries are append-only: never edit one that has shipped.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('room', 'dm')),
    name TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    ephemeral_ttl_s INTEGER,
    is_main INTEGER NOT NULL DEFAULT 0,
    dm_key TEXT UNIQUE,
    last_seq INTEGER NOT NULL DEFAULT 0,
    created_by TEXT,
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE chat_members (
    chat_id TEXT NOT NULL REFERENCES chats (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    read_seq INTEGER NOT NULL DEFAULT 0,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX chat_members_by_user ON chat_members (user_id, chat_id);

  CREATE TABLE messages (
    chat_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    sender_id TEXT NOT NULL,
    content TEXT NOT NULL,
    mobile_ref_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    PRIMARY KEY (chat_id, seq)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX messages_dedupe ON messages (chat_id, sender_id, mobile_ref_id);
  CREATE INDEX messages_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE pending_notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    mentioned INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX pending_by_user ON pending_notifications (user_id, id);
  CREATE INDEX pending_by_chat ON pending_notifications (user_id, chat_id, seq);
  `,
  // 2: message search. FTS5 without its own copy of the text (content=''): the text stays in
  // `messages`, the index maps words to a rowid, and `message_search_keys` maps that rowid to
  // the message. A send only adds its key (the trigger); relay/store/sqlite/sqlite-search-index.ts indexes
  // the keys in batches, off the send path, existing messages included (keys oldest first).
  // Messages of ephemeral chats (expires_at set) are never indexed, so expiry never has to
  // delete from the index. `message_search_progress` holds the last key indexed.
  `
  CREATE TABLE message_search_keys (
    rowid INTEGER PRIMARY KEY,
    chat_id TEXT NOT NULL,
    seq INTEGER NOT NULL
  );
  CREATE VIRTUAL TABLE message_search USING fts5 (
    content, content = '', tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TABLE message_search_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto INTEGER NOT NULL
  );
  INSERT INTO message_search_progress VALUES (1, 0);
  CREATE TRIGGER messages_search_key AFTER INSERT ON messages WHEN NEW.expires_at IS NULL
  BEGIN
    INSERT INTO message_search_keys (chat_id, seq) VALUES (NEW.chat_id, NEW.seq);
  END;
  INSERT INTO message_search_keys (chat_id, seq)
    SELECT chat_id, seq FROM messages WHERE expires_at IS NULL ORDER BY created_at, chat_id, seq;
  `,
  // 3: signing in again without a signed-in device (relay/identity/sign-in-codes.ts). Only hashes.
  // One recovery code per user; a few short-lived device-link codes per user.
  `
  CREATE TABLE recovery_codes (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    hash TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE link_codes (
    user_id TEXT NOT NULL REFERENCES users (id),
    hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (user_id, hash)
  ) WITHOUT ROWID;
  `,
  // 4: look-alike names and token revocation. `name_skeleton` is the key two names clash on
  // (relay/core/name-key.ts): unique among sign-up users and among public rooms, NULL for
  // identity-provider users, private rooms and DMs. It is computed in JavaScript, so existing
  // rows get theirs right after the migrations run (backfillNameSkeletons in sqlite-store.ts),
  // the oldest of clashing names first; later ones keep NULL (both stay, no new one may clash).
  // `token_generation` goes up when a user signs out everywhere; older tokens stop working.
  `
  ALTER TABLE users ADD COLUMN name_skeleton TEXT;
  CREATE UNIQUE INDEX users_name_skeleton ON users (name_skeleton);
  ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE chats ADD COLUMN name_skeleton TEXT;
  CREATE UNIQUE INDEX chats_name_skeleton ON chats (name_skeleton);
  `,
  // 5: the chat as a stream of events (issue 17). Edits and deletes take the chat's next seq,
  // like a message, and are kept in `chat_events`; a message row holds its current state
  // (`version_seq` NULL means its own seq: no change yet). A delete empties `content` and the
  // text of the message's earlier edit events. The search keys get an index by message, to find
  // what to take out of the index when a message changes.
  `
  ALTER TABLE messages ADD COLUMN edited_at TEXT;
  ALTER TABLE messages ADD COLUMN deleted_at TEXT;
  ALTER TABLE messages ADD COLUMN deleted_by TEXT;
  ALTER TABLE messages ADD COLUMN version_seq INTEGER;
  CREATE TABLE chat_events (
    chat_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('edit', 'delete')),
    message_seq INTEGER NOT NULL,
    actor_id TEXT NOT NULL,
    content TEXT,
    ref_id TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, seq)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX chat_events_dedupe ON chat_events (chat_id, actor_id, ref_id)
    WHERE ref_id IS NOT NULL;
  CREATE INDEX chat_events_by_message ON chat_events (chat_id, message_seq);
  CREATE INDEX message_search_keys_by_message ON message_search_keys (chat_id, seq);
  `,
];
