-- Mirror of Clerk users, plus staff-only accounts (clerk_id NULL).
-- clerk_updated_at is Clerk's own updated_at in Unix milliseconds, compared for order safety.
CREATE TABLE users (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    clerk_id         TEXT UNIQUE,
    email            TEXT NOT NULL DEFAULT '',
    username         TEXT UNIQUE,
    first_name       TEXT NOT NULL DEFAULT '',
    last_name        TEXT NOT NULL DEFAULT '',
    image_url        TEXT NOT NULL DEFAULT '',
    public_metadata  TEXT NOT NULL DEFAULT '{}',
    is_active        BOOLEAN NOT NULL DEFAULT 1,
    is_staff         BOOLEAN NOT NULL DEFAULT 0,
    is_superuser     BOOLEAN NOT NULL DEFAULT 0,
    password_hash    TEXT,
    last_login       TEXT,
    last_sign_in_at  TEXT,
    clerk_updated_at INTEGER,
    deleted_at       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
-- Staff logins are looked up by email; Clerk users may share an email and are never linked.
CREATE UNIQUE INDEX users_staff_email ON users (lower(email)) WHERE clerk_id IS NULL;
CREATE INDEX users_email ON users (email);
CREATE INDEX users_created_at ON users (created_at);
CREATE INDEX users_last_sign_in_at ON users (last_sign_in_at);

CREATE TABLE organizations (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    clerk_id                TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL DEFAULT '',
    slug                    TEXT,
    image_url               TEXT NOT NULL DEFAULT '',
    members_count           INTEGER,
    max_allowed_memberships INTEGER,
    public_metadata         TEXT NOT NULL DEFAULT '{}',
    is_active               BOOLEAN NOT NULL DEFAULT 1,
    clerk_updated_at        INTEGER,
    deleted_at              TEXT,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE INDEX organizations_slug ON organizations (slug);
CREATE INDEX organizations_name ON organizations (name);

CREATE TABLE organization_memberships (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    clerk_id         TEXT NOT NULL UNIQUE,
    organization_id  INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    permissions      TEXT NOT NULL DEFAULT '[]',
    clerk_updated_at INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX organization_memberships_user ON organization_memberships (user_id);

CREATE TABLE organization_invitations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    clerk_id        TEXT NOT NULL UNIQUE,
    organization_id INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email_address   TEXT NOT NULL,
    role            TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX organization_invitations_org ON organization_invitations (organization_id);

CREATE TABLE webhook_events (
    svix_id      TEXT PRIMARY KEY NOT NULL,
    event_type   TEXT NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT,
    object_id    TEXT,
    received_at  TEXT NOT NULL,
    processed_at TEXT
);
CREATE INDEX webhook_events_received_at ON webhook_events (received_at);
CREATE INDEX webhook_events_object_id ON webhook_events (object_id);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    changes       TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL
);
CREATE INDEX audit_log_created_at ON audit_log (created_at);

-- The tower-sessions store's table, in the shape tower-sessions-sqlx-store expects.
CREATE TABLE tower_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);
