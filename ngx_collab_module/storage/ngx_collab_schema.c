/*
 * Copyright (C) collab
 *
 * The schema of the database, as numbered migrations: migration N brings it
 * to PRAGMA user_version = N.  Only ever append.  Plain C, so that the
 * SQLite baseline of bench/ runs on the very same tables.
 */

#include "ngx_collab_schema.h"


const char  *const ngx_collab_migrations[] = {

    /* 1: accounts, keys, rooms, users, events */
    "CREATE TABLE meta ("
    "  name TEXT PRIMARY KEY,"
    "  value BLOB NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO meta VALUES ('cursor_secret', randomblob(32));"

    "CREATE TABLE accounts ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"

    "CREATE TABLE api_keys ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  account_id TEXT NOT NULL"
    "    REFERENCES accounts(id) ON DELETE CASCADE,"
    "  name TEXT,"
    "  hash BLOB NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER"
    ");"
    "CREATE INDEX api_keys_account ON api_keys(account_id, seq);"

    "CREATE TABLE rooms ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  account_id TEXT NOT NULL"
    "    REFERENCES accounts(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  metadata TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX rooms_account ON rooms(account_id, seq);"

    "CREATE TABLE users ("
    "  seq INTEGER PRIMARY KEY,"
    "  room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL,"
    "  name TEXT,"
    "  email TEXT,"
    "  metadata TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE (room_id, user_id)"
    ");"
    "CREATE INDEX users_room ON users(room_id, seq);"

    /* events outlive their room: room_id is not a foreign key */
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  account_id TEXT NOT NULL"
    "    REFERENCES accounts(id) ON DELETE CASCADE,"
    "  room_id TEXT,"
    "  type TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX events_account ON events(account_id, seq);"
    "CREATE INDEX events_room ON events(account_id, room_id, seq);",

    /* 2: webhooks, their deliveries and the attempts of each delivery */
    "CREATE TABLE webhooks ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  account_id TEXT NOT NULL"
    "    REFERENCES accounts(id) ON DELETE CASCADE,"
    "  url TEXT NOT NULL,"
    "  events TEXT NOT NULL,"
    "  event_mask INTEGER NOT NULL,"
    "  room_id TEXT,"
    "  description TEXT,"
    "  enabled INTEGER NOT NULL,"
    "  secret TEXT NOT NULL,"
    "  previous_secret TEXT,"
    "  previous_until INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX webhooks_account ON webhooks(account_id, seq);"

    "CREATE TABLE deliveries ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  webhook_id TEXT NOT NULL"
    "    REFERENCES webhooks(id) ON DELETE CASCADE,"
    "  event_id TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER,"
    "  last_attempt_at INTEGER,"
    "  status_code INTEGER,"
    "  duration_ms INTEGER,"
    "  error TEXT,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX deliveries_webhook ON deliveries(webhook_id, seq);"
    "CREATE INDEX deliveries_status ON deliveries(webhook_id, status, seq);"
    "CREATE INDEX deliveries_due"
    "  ON deliveries(webhook_id, next_attempt_at) WHERE status = 'pending';"
    "CREATE INDEX deliveries_created ON deliveries(created_at);"

    "CREATE TABLE delivery_attempts ("
    "  seq INTEGER PRIMARY KEY,"
    "  delivery_id TEXT NOT NULL"
    "    REFERENCES deliveries(id) ON DELETE CASCADE,"
    "  at INTEGER NOT NULL,"
    "  status_code INTEGER,"
    "  duration_ms INTEGER NOT NULL,"
    "  error TEXT,"
    "  response TEXT"
    ");"
    "CREATE INDEX delivery_attempts_delivery"
    "  ON delivery_attempts(delivery_id, seq);",

    /* 3: key-value stores of a room */
    "CREATE TABLE store_items ("
    "  room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
    "  store TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, store, key)"
    ") WITHOUT ROWID;",

    /* 4: files of a room; the bytes are kept under the blob id */
    "CREATE TABLE files ("
    "  room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  blob TEXT NOT NULL UNIQUE,"
    "  size INTEGER NOT NULL,"
    "  content_type TEXT NOT NULL,"
    "  uploaded_at INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, name)"
    ") WITHOUT ROWID;",

    /*
     * 5: attempts refer to their delivery by its integer key, so that the
     * outbox writes outcomes by sequence number (no lookups of text ids,
     * and attempts indexed in the order they are written)
     */
    "CREATE TABLE delivery_attempts_5 ("
    "  seq INTEGER PRIMARY KEY,"
    "  delivery_seq INTEGER NOT NULL"
    "    REFERENCES deliveries(seq) ON DELETE CASCADE,"
    "  at INTEGER NOT NULL,"
    "  status_code INTEGER,"
    "  duration_ms INTEGER NOT NULL,"
    "  error TEXT,"
    "  response TEXT"
    ");"
    "INSERT INTO delivery_attempts_5 (seq, delivery_seq, at, status_code,"
    "  duration_ms, error, response)"
    "  SELECT a.seq, d.seq, a.at, a.status_code, a.duration_ms, a.error,"
    "  a.response FROM delivery_attempts a"
    "  JOIN deliveries d ON d.id = a.delivery_id;"
    "DROP TABLE delivery_attempts;"
    "ALTER TABLE delivery_attempts_5 RENAME TO delivery_attempts;"
    "CREATE INDEX delivery_attempts_delivery"
    "  ON delivery_attempts(delivery_seq, seq);",

    /*
     * 6: presence: the key that signs client tokens, sessions, who is a
     * participant as far as the recorded events go, and the revocations
     * of client tokens (user_id '' for a whole room)
     */
    "INSERT INTO meta VALUES ('client_token_key', randomblob(32));"

    "CREATE TABLE sessions ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  account_id TEXT NOT NULL,"
    "  room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
    "  started_at INTEGER NOT NULL,"
    "  closed_at INTEGER,"
    "  peak INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX sessions_room ON sessions(room_id, seq);"
    "CREATE INDEX sessions_open ON sessions(seq) WHERE closed_at IS NULL;"

    "CREATE TABLE participants ("
    "  room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL,"
    "  account_id TEXT NOT NULL,"
    "  session_id TEXT NOT NULL,"
    "  since INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, user_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX participants_session ON participants(session_id);"

    "CREATE TABLE token_revocations ("
    "  room_id TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  revoked_at INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, user_id)"
    ") WITHOUT ROWID;",

    /*
     * 7: workflows (the source and what it compiled to) and their
     * executions.  A claimed execution is "running" until its lease
     * (next_at) runs out; done_seq numbers finished executions in the
     * order their outcomes were written, from the counter in meta, so
     * that a tail in any worker reads what finished since it last looked.
     */
    "CREATE TABLE workflows ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  account_id TEXT NOT NULL"
    "    REFERENCES accounts(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  events TEXT NOT NULL,"
    "  event_mask INTEGER NOT NULL,"
    "  room_id TEXT,"
    "  language TEXT NOT NULL,"
    "  code TEXT NOT NULL,"
    "  js TEXT NOT NULL,"
    "  source_map TEXT,"
    "  enabled INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX workflows_account ON workflows(account_id, seq);"

    "CREATE TABLE executions ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  workflow_id TEXT NOT NULL"
    "    REFERENCES workflows(id) ON DELETE CASCADE,"
    "  account_id TEXT NOT NULL,"
    "  room_id TEXT,"
    "  event_id TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER,"
    "  result TEXT,"
    "  error TEXT,"
    "  logs TEXT,"
    "  fetches TEXT,"
    "  started_at INTEGER,"
    "  finished_at INTEGER,"
    "  duration_ms INTEGER,"
    "  done_seq INTEGER,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX executions_workflow ON executions(workflow_id, seq);"
    "CREATE INDEX executions_status"
    "  ON executions(workflow_id, status, seq);"
    "CREATE INDEX executions_due ON executions(next_at)"
    "  WHERE status IN ('pending', 'running');"
    "CREATE INDEX executions_done ON executions(workflow_id, done_seq)"
    "  WHERE done_seq IS NOT NULL;"
    "CREATE INDEX executions_created ON executions(created_at);"
    "INSERT INTO meta VALUES ('executions_done', 0);",
};

const size_t  ngx_collab_nmigrations =
    sizeof(ngx_collab_migrations) / sizeof(ngx_collab_migrations[0]);
