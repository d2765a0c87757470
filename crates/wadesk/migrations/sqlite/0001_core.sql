-- Core data model: contacts, conversations, messages, delivery statuses, the webhook journal,
-- the outbox, API tokens. Times are unix milliseconds (INTEGER) on both backends.

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    wa_id TEXT UNIQUE,
    bsuid TEXT UNIQUE,
    phone TEXT,
    profile_name TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX contacts_phone ON contacts (phone);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id),
    phone_number_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    assignee TEXT,
    labels TEXT NOT NULL DEFAULT '[]',
    last_message_id TEXT,
    last_message_at INTEGER NOT NULL,
    last_inbound_at INTEGER,
    unread_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (contact_id, phone_number_id)
);
CREATE INDEX conversations_activity ON conversations (last_message_at DESC, id DESC);
CREATE INDEX conversations_status_activity ON conversations (status, last_message_at DESC, id DESC);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    wamid TEXT UNIQUE,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT,
    content TEXT NOT NULL,
    reply_to TEXT,
    status TEXT NOT NULL,
    error_code INTEGER,
    error_title TEXT,
    error_detail TEXT,
    author TEXT,
    created_at INTEGER NOT NULL,
    status_updated_at INTEGER NOT NULL,
    sent_at INTEGER,
    delivered_at INTEGER,
    read_at INTEGER,
    played_at INTEGER,
    failed_at INTEGER
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at DESC, id DESC);
CREATE INDEX messages_created ON messages (created_at DESC, id DESC);

CREATE TABLE status_events (
    id INTEGER PRIMARY KEY,
    wamid TEXT NOT NULL,
    status TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    recipient_id TEXT,
    callback_data TEXT,
    errors TEXT,
    received_at INTEGER NOT NULL,
    applied_at INTEGER,
    UNIQUE (wamid, status)
);
CREATE INDEX status_events_unapplied ON status_events (wamid) WHERE applied_at IS NULL;

CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    signature TEXT NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    processed_at INTEGER
);
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_events_state ON webhook_events (state, id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE REFERENCES messages (id),
    phone_number_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    pair_limited INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_recipient ON outbox (phone_number_id, recipient, id);
CREATE INDEX outbox_due ON outbox (phone_number_id, next_attempt_at, id);

CREATE TABLE outbox_pauses (
    phone_number_id TEXT PRIMARY KEY,
    code INTEGER,
    reason TEXT NOT NULL,
    token_fingerprint TEXT,
    paused_at INTEGER NOT NULL
);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
