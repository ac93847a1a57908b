-- The users' search index is written once per transaction instead of once per row. FTS5 flushes
-- its pending terms to disk at every statement savepoint, so with triggers writing to it a batch
-- of webhook upserts made one index segment per user (and merged them): a third of the server's
-- CPU per `user.created`. Now the triggers only note which rows changed and what text the index
-- holds for them; `db::search_index` brings the index up to date before each commit, and a
-- search also looks at the rows still noted, so it never misses a change.
CREATE TABLE users_search_pending (
    id INTEGER PRIMARY KEY,
    -- The text the index holds for this row (NULL: none). The first note wins: later changes
    -- before the next indexing leave the index's own text in place.
    indexed_text TEXT
);
-- "The first note wins" is a NOT EXISTS, not INSERT OR IGNORE: an upsert's DO UPDATE (and any
-- outer OR clause) overrides a trigger's conflict policy, which then fails on the second note.
DROP TRIGGER users_search_insert;
DROP TRIGGER users_search_delete;
DROP TRIGGER users_search_update;
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search_pending (id, indexed_text)
        SELECT new.id, NULL WHERE NOT EXISTS (SELECT 1 FROM users_search_pending WHERE id = new.id);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search_pending (id, indexed_text)
        SELECT old.id, old.search_text WHERE NOT EXISTS (SELECT 1 FROM users_search_pending WHERE id = old.id);
END;
-- A webhook's upsert assigns every column: only a different searched text counts as a change.
CREATE TRIGGER users_search_update AFTER UPDATE OF email, username, first_name, last_name, clerk_id ON users
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO users_search_pending (id, indexed_text)
        SELECT old.id, old.search_text WHERE NOT EXISTS (SELECT 1 FROM users_search_pending WHERE id = old.id);
END;
