-- Core data model: contacts, conversations, messages, delivery statuses, the webhook journal,
-- the outbox, API tokens. Times are unix milliseconds (INTEGER) on both backends.

CREATE TABLE contacts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wa_id TEXT UNIQUE,
    bsuid TEXT UNIQUE,
    phone TEXT,
    profile_name TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX contacts_phone ON contacts (phone);

CREATE TABLE conversations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    phone_number_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    assignee TEXT,
    labels TEXT NOT NULL DEFAULT '[]',
    last_message_id TEXT,
    last_message_at BIGINT NOT NULL,
    last_inbound_at BIGINT,
    unread_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (contact_id, phone_number_id)
);
CREATE INDEX conversations_activity ON conversations (last_message_at DESC, id DESC);
CREATE INDEX conversations_status_activity ON conversations (status, last_message_at DESC, id DESC);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    wamid TEXT UNIQUE,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT,
    content TEXT NOT NULL,
    reply_to TEXT,
    status TEXT NOT NULL,
    error_code BIGINT,
    error_title TEXT,
    error_detail TEXT,
    author TEXT,
    created_at BIGINT NOT NULL,
    status_updated_at BIGINT NOT NULL,
    sent_at BIGINT,
    delivered_at BIGINT,
    read_at BIGINT,
    played_at BIGINT,
    failed_at BIGINT
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at DESC, id DESC);
CREATE INDEX messages_created ON messages (created_at DESC, id DESC);

CREATE TABLE status_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wamid TEXT NOT NULL,
    status TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    recipient_id TEXT,
    callback_data TEXT,
    errors TEXT,
    received_at BIGINT NOT NULL,
    applied_at BIGINT,
    UNIQUE (wamid, status)
);
CREATE INDEX status_events_unapplied ON status_events (wamid) WHERE applied_at IS NULL;

CREATE TABLE webhook_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    signature TEXT NOT NULL,
    body BYTEA NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    processed_at BIGINT
);
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_events_state ON webhook_events (state, id);

CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE REFERENCES messages (id),
    phone_number_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    pair_limited BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_recipient ON outbox (phone_number_id, recipient, id);
CREATE INDEX outbox_due ON outbox (phone_number_id, next_attempt_at, id);

CREATE TABLE outbox_pauses (
    phone_number_id TEXT PRIMARY KEY,
    code BIGINT,
    reason TEXT NOT NULL,
    token_fingerprint TEXT,
    paused_at BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE api_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
