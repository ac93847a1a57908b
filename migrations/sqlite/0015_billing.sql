-- Clerk Billing, mirrored from its webhooks (and `server sync-billing`). Payers are named by
-- their Clerk ids, so a subscription may arrive before its user or organization. `version` is
-- Clerk's updated_at, or the event's timestamp where the payload has none (Unix milliseconds):
-- an older version changes nothing, and an ended, abandoned or expired item stays so.
CREATE TABLE subscriptions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    clerk_id            TEXT NOT NULL UNIQUE,
    payer_user_clerk_id TEXT,
    payer_org_clerk_id  TEXT,
    status              TEXT NOT NULL,
    active_at           INTEGER,
    past_due_at         INTEGER,
    version             INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX subscriptions_payer_user ON subscriptions (payer_user_clerk_id);
CREATE INDEX subscriptions_payer_org ON subscriptions (payer_org_clerk_id);

CREATE TABLE subscription_items (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    clerk_id              TEXT NOT NULL UNIQUE,
    subscription_clerk_id TEXT,
    payer_user_clerk_id   TEXT,
    payer_org_clerk_id    TEXT,
    plan_clerk_id         TEXT,
    plan_slug             TEXT NOT NULL DEFAULT '',
    plan_name             TEXT NOT NULL DEFAULT '',
    plan_period           TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL,
    period_start          INTEGER,
    period_end            INTEGER,
    canceled_at           INTEGER,
    past_due_at           INTEGER,
    amount                INTEGER,
    currency              TEXT NOT NULL DEFAULT '',
    version               INTEGER NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX subscription_items_payer_user ON subscription_items (payer_user_clerk_id, period_start);
CREATE INDEX subscription_items_payer_org ON subscription_items (payer_org_clerk_id, period_start);
CREATE INDEX subscription_items_plan_status ON subscription_items (plan_slug, status);
