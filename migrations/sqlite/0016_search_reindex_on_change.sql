-- Re-index a user's search entry only when the searched text changes. An upsert that writes the
-- same names (most `user.updated` webhooks: a sign-in, metadata) fired the trigger anyway, and
-- with `secure_delete` each needless delete rewrote the index's pages: SQLite ingested
-- `user.updated` at 773 events/s against 5,717 for `user.created` (bench/webhooks.sh).
DROP TRIGGER users_search_update;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, username, first_name, last_name, clerk_id ON users
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO users_search (users_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO users_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
