-- Substring search over users (the admin's search box) through a trigram index, so a search
-- reads the matching rows instead of scanning the table. pg_trgm ships with Postgres and is a
-- trusted extension: a database owner may create it. fastupdate off: new rows are searchable
-- through the index at once rather than after the next vacuum.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE users ADD COLUMN search_text TEXT GENERATED ALWAYS AS (
    lower(email || ' ' || COALESCE(username, '') || ' ' || first_name || ' ' || last_name || ' ' || COALESCE(clerk_id, ''))
) STORED;
CREATE INDEX users_search_trgm ON users USING gin (search_text gin_trgm_ops) WITH (fastupdate = off);
