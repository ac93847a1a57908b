-- A username generated here (CLERK_AUTO_GENERATE_USERNAME) waits to be written to Clerk, so
-- that Clerk's next user.updated carries it. Cleared once Clerk has it.
ALTER TABLE users ADD COLUMN username_pending_push BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX users_username_pending_push ON users (id) WHERE username_pending_push;
