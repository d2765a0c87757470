-- Full-text search over message text: a generated tsvector with a GIN index. The 'simple'
-- configuration does not stem, since customers write in every language.
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', COALESCE(text, ''))) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);

CREATE INDEX contacts_name ON contacts (profile_name);
