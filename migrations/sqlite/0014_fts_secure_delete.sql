-- Deletions from the users' search index remove the entries themselves, not only mark them:
-- an erased person's name must not survive in the index's shadow tables (SQLite 3.42+).
INSERT INTO users_search (users_search, rank) VALUES ('secure-delete', 1);
