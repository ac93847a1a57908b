-- Substring search over users (the admin's search box) through an FTS5 trigram index, so a
-- search reads the matching rows instead of scanning the table. `search_text` is computed from
-- the searched columns; triggers keep the index in step with every write.
ALTER TABLE users ADD COLUMN search_text TEXT GENERATED ALWAYS AS (
    lower(email || ' ' || COALESCE(username, '') || ' ' || first_name || ' ' || last_name || ' ' || COALESCE(clerk_id, ''))
) VIRTUAL;
CREATE VIRTUAL TABLE users_search USING fts5 (search_text, content = 'users', content_rowid = 'id', tokenize = 'trigram');
INSERT INTO users_search (users_search) VALUES ('rebuild');
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, username, first_name, last_name, clerk_id ON users BEGIN
    INSERT INTO users_search (users_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO users_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
