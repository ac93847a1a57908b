-- Failed staff logins, kept in the database so that throttling holds across instances.
CREATE TABLE login_attempts (
    id         BIGSERIAL PRIMARY KEY,
    email      TEXT NOT NULL,
    ip         TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, created_at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, created_at);
-- The admin's per-object history (a user's or an organization's audit entries).
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, created_at);
-- Admin listings order by these with id as the tie-breaker; deep pages then read an index
-- instead of sorting the table.
CREATE INDEX users_created_at_id ON users (created_at, id);
CREATE INDEX users_last_sign_in_at_id ON users (last_sign_in_at DESC NULLS LAST, id DESC);
CREATE INDEX users_email_id ON users (email, id);
CREATE INDEX organizations_created_at_id ON organizations (created_at, id);
CREATE INDEX audit_log_created_at_id ON audit_log (created_at, id);
CREATE INDEX organization_memberships_org ON organization_memberships (organization_id, created_at);
-- A staff member deactivated this user here: Clerk's later updates must not reactivate them.
ALTER TABLE users ADD COLUMN deactivated_locally BOOLEAN NOT NULL DEFAULT FALSE;
