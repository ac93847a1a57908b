-- Clerk sessions ended by a webhook (session.ended/removed/revoked). Their last tokens may still
-- be unexpired: every instance refuses them, including one started after the webhook, which
-- loads this table at start. Rows outlive any token and are pruned hourly.
CREATE TABLE ended_clerk_sessions (
    clerk_sid  TEXT PRIMARY KEY NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ended_clerk_sessions_expires ON ended_clerk_sessions (expires_at);
