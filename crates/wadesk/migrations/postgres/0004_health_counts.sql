-- The health endpoint counts failed sends on every call: an index over just those, so the count
-- does not read every message.
CREATE INDEX messages_failed_sends ON messages (id) WHERE direction = 'outbound' AND status = 'failed';
