-- Failed staff logins, kept in the database so that throttling holds across instances.
CREATE TABLE login_attempts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    email      TEXT NOT NULL,
    ip         TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, created_at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, created_at);
-- The admin's per-object history (a user's or an organization's audit entries).
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, created_at);
-- SQLite indexes carry the rowid, so (created_at) already orders by (created_at, id).
CREATE INDEX organizations_created_at ON organizations (created_at);
CREATE INDEX organization_memberships_org ON organization_memberships (organization_id, created_at);
-- A staff member deactivated this user here: Clerk's later updates must not reactivate them.
ALTER TABLE users ADD COLUMN deactivated_locally BOOLEAN NOT NULL DEFAULT 0;
