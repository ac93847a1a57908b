-- Mirror of Clerk users, plus staff-only accounts (clerk_id NULL).
-- clerk_updated_at is Clerk's own updated_at in Unix milliseconds, compared for order safety.
CREATE TABLE users (
    id               BIGSERIAL PRIMARY KEY,
    clerk_id         TEXT UNIQUE,
    email            TEXT NOT NULL DEFAULT '',
    username         TEXT UNIQUE,
    first_name       TEXT NOT NULL DEFAULT '',
    last_name        TEXT NOT NULL DEFAULT '',
    image_url        TEXT NOT NULL DEFAULT '',
    public_metadata  JSONB NOT NULL DEFAULT '{}',
    is_active        BOOLEAN NOT NULL DEFAULT TRUE,
    is_staff         BOOLEAN NOT NULL DEFAULT FALSE,
    is_superuser     BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash    TEXT,
    last_login       TIMESTAMPTZ,
    last_sign_in_at  TIMESTAMPTZ,
    clerk_updated_at BIGINT,
    deleted_at       TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
-- Staff logins are looked up by email; Clerk users may share an email and are never linked.
CREATE UNIQUE INDEX users_staff_email ON users (lower(email)) WHERE clerk_id IS NULL;
CREATE INDEX users_email ON users (email);
CREATE INDEX users_created_at ON users (created_at);
CREATE INDEX users_last_sign_in_at ON users (last_sign_in_at);

CREATE TABLE organizations (
    id                      BIGSERIAL PRIMARY KEY,
    clerk_id                TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL DEFAULT '',
    slug                    TEXT,
    image_url               TEXT NOT NULL DEFAULT '',
    members_count           BIGINT,
    max_allowed_memberships BIGINT,
    public_metadata         JSONB NOT NULL DEFAULT '{}',
    is_active               BOOLEAN NOT NULL DEFAULT TRUE,
    clerk_updated_at        BIGINT,
    deleted_at              TIMESTAMPTZ,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL
);
CREATE INDEX organizations_slug ON organizations (slug);
CREATE INDEX organizations_name ON organizations (name);

CREATE TABLE organization_memberships (
    id               BIGSERIAL PRIMARY KEY,
    clerk_id         TEXT NOT NULL UNIQUE,
    organization_id  BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    permissions      JSONB NOT NULL DEFAULT '[]',
    clerk_updated_at BIGINT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX organization_memberships_user ON organization_memberships (user_id);

CREATE TABLE organization_invitations (
    id              BIGSERIAL PRIMARY KEY,
    clerk_id        TEXT NOT NULL UNIQUE,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email_address   TEXT NOT NULL,
    role            TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX organization_invitations_org ON organization_invitations (organization_id);

CREATE TABLE webhook_events (
    svix_id      TEXT PRIMARY KEY NOT NULL,
    event_type   TEXT NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT,
    object_id    TEXT,
    received_at  TIMESTAMPTZ NOT NULL,
    processed_at TIMESTAMPTZ
);
CREATE INDEX webhook_events_received_at ON webhook_events (received_at);
CREATE INDEX webhook_events_object_id ON webhook_events (object_id);

CREATE TABLE audit_log (
    id            BIGSERIAL PRIMARY KEY,
    actor_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    changes       JSONB NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_created_at ON audit_log (created_at);

-- The tower-sessions store's table, in the shape tower-sessions-sqlx-store expects.
CREATE TABLE tower_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BYTEA NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);
