-- Clerk Billing's plans, from `server sync-billing` (`GET /v1/billing/plans`), so the admin lists
-- plans nobody has subscribed to yet. A plan is never deleted here: items keep naming it.
CREATE TABLE billing_plans (
    clerk_id     TEXT PRIMARY KEY,
    slug         TEXT NOT NULL,
    name         TEXT NOT NULL,
    payer_type   TEXT NOT NULL,
    is_default   BOOLEAN NOT NULL DEFAULT FALSE,
    fee_amount   BIGINT,
    currency     TEXT NOT NULL DEFAULT '',
    synced_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX billing_plans_slug ON billing_plans (slug);
