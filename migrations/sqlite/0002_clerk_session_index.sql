-- Which server sessions stand for which Clerk session and user, so that `session.revoked`
-- and `user.deleted` can end them at once. Maintained by the session store.
CREATE TABLE clerk_session_index (
    session_id    TEXT PRIMARY KEY NOT NULL,
    clerk_sid     TEXT,
    clerk_user_id TEXT NOT NULL
);
CREATE INDEX clerk_session_index_sid ON clerk_session_index (clerk_sid);
CREATE INDEX clerk_session_index_user ON clerk_session_index (clerk_user_id);
