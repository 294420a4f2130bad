/**
 * Versioned schema for the PostgreSQL store. Entry N brings the schema to version N+1 and is
 * recorded in `schema_migrations`; entries are append-only: never edit one that has shipped.
 * Every node runs the migrations on start, serialised by an advisory lock, so several nodes
 * starting at once apply each step exactly once.
 *
 * Differences from SQLite, on purpose: timestamps are `timestamptz`; `chats_one_main` makes a
 * second main room impossible even when two fresh nodes start at the same moment.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
  );

  CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('room', 'dm')),
    name TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    ephemeral_ttl_s INTEGER,
    is_main BOOLEAN NOT NULL DEFAULT false,
    dm_key TEXT UNIQUE,
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_by TEXT,
    created_at TIMESTAMPTZ NOT NULL
  );
  CREATE UNIQUE INDEX chats_one_main ON chats (is_main) WHERE is_main;

  CREATE TABLE chat_members (
    chat_id TEXT NOT NULL REFERENCES chats (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    read_seq BIGINT NOT NULL DEFAULT 0,
    joined_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chat_id, user_id)
  );
  CREATE INDEX chat_members_by_user ON chat_members (user_id, chat_id);

  CREATE TABLE messages (
    chat_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    sender_id TEXT NOT NULL,
    content TEXT NOT NULL,
    mobile_ref_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    PRIMARY KEY (chat_id, seq)
  );
  CREATE UNIQUE INDEX messages_dedupe ON messages (chat_id, sender_id, mobile_ref_id);
  CREATE INDEX messages_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE pending_notifications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    mentioned BOOLEAN NOT NULL DEFAULT false
  );
  CREATE INDEX pending_by_user ON pending_notifications (user_id, id);
  CREATE INDEX pending_by_chat ON pending_notifications (user_id, chat_id, seq);
  `,
  // 2: message search. A GIN index over the words of every message outside ephemeral chats
  // (the 'simple' configuration: lower-cased words, no stemming, no stop words).
  `
  CREATE INDEX messages_search ON messages USING gin (to_tsvector('simple', content))
    WHERE expires_at IS NULL;
  `,
  // 3: signing in again without a signed-in device (relay/identity/sign-in-codes.ts). Only hashes.
  // One recovery code per user; a few short-lived device-link codes per user.
  `
  CREATE TABLE recovery_codes (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
  );
  CREATE TABLE link_codes (
    user_id TEXT NOT NULL REFERENCES users (id),
    hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, hash)
  );
  `,
  // 4: look-alike names and token revocation, as SQLite's migration 4 (keys backfilled in
  // JavaScript under the migration lock: backfillNameSkeletons in pg-store.ts).
  `
  ALTER TABLE users ADD COLUMN name_skeleton TEXT;
  CREATE UNIQUE INDEX users_name_skeleton ON users (name_skeleton);
  ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE chats ADD COLUMN name_skeleton TEXT;
  CREATE UNIQUE INDEX chats_name_skeleton ON chats (name_skeleton);
  `,
  // 5: the chat as a stream of events, as SQLite's migration 5. Search needs nothing: the GIN
  // index is over `content`, so an edit or a delete updates it with the row.
  `
  ALTER TABLE messages ADD COLUMN edited_at TIMESTAMPTZ;
  ALTER TABLE messages ADD COLUMN deleted_at TIMESTAMPTZ;
  ALTER TABLE messages ADD COLUMN deleted_by TEXT;
  ALTER TABLE messages ADD COLUMN version_seq BIGINT;
  CREATE TABLE chat_events (
    chat_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('edit', 'delete')),
    message_seq BIGINT NOT NULL,
    actor_id TEXT NOT NULL,
    content TEXT,
    ref_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chat_id, seq)
  );
  CREATE UNIQUE INDEX chat_events_dedupe ON chat_events (chat_id, actor_id, ref_id)
    WHERE ref_id IS NOT NULL;
  CREATE INDEX chat_events_by_message ON chat_events (chat_id, message_seq);
  `,
];
