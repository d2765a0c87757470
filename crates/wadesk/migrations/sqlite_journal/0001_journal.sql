-- The webhook journal in a SQLite file of its own (`<database file>.webhooks`), so appending a
-- body never waits for the main file's writer. Same table as PostgreSQL's (0001_core.sql).
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
