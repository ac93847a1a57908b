//! Clerk Billing's webhook payloads, shaped as `@clerk/backend` 3.25.0 types them
//! (`BillingSubscriptionWebhookEventJSON`, `…SubscriptionItem…`, `…PaymentAttempt…`).

use serde_json::{Value, json};

/// A plan as webhook items embed it: flat, its `amount` a number of cents.
pub fn plan(id: &str, slug: &str, name: &str, amount: i64) -> Value {
    json!({
        "id": id, "instance_id": "ins_fake_primary", "product_id": "prod_fake", "name": name, "slug": slug,
        "description": null, "is_default": amount == 0, "is_recurring": true, "amount": amount, "period": "month",
        "interval": 1, "has_base_fee": amount > 0, "currency": "USD", "annual_monthly_amount": amount,
        "publicly_visible": true
    })
}

/// The payer: a user (`user_…`) or an organization (`org_…`).
pub fn payer(id: &str) -> Value {
    let (user, org) = if id.starts_with("org_") { (Value::Null, json!(id)) } else { (json!(id), Value::Null) };
    json!({
        "object": "commerce_payer", "id": format!("cpayer_{id}"), "instance_id": "ins_fake_primary",
        "user_id": user, "organization_id": org, "email": "billing@example.com", "image_url": "",
        "created_at": 1_700_000_000_000i64, "updated_at": 1_700_000_000_000i64
    })
}

/// A subscription item of `plan` for `payer` in `status`, its period starting at `period_start`.
pub fn subscription_item(id: &str, plan: &Value, status: &str, payer_id: &str, period_start: i64) -> Value {
    let amount = plan["amount"].as_i64().unwrap_or_default();
    json!({
        "object": "commerce_subscription_item", "id": id, "status": status,
        "credit": { "amount": money(0), "cycle_days_remaining": 30, "cycle_days_total": 30, "cycle_remaining_percent": 100 },
        "proration_date": "", "plan_period": "month", "period_start": period_start,
        "period_end": period_start + 30 * 86_400_000i64, "lifetime_paid": amount, "next_payment_amount": amount,
        "next_payment_date": period_start + 30 * 86_400_000i64, "amount": money(amount), "plan": plan,
        "plan_id": plan["id"], "payer": payer(payer_id)
    })
}

/// A subscription of `payer_id` holding `items`, last changed at `updated_at` (ms).
pub fn subscription(id: &str, payer_id: &str, status: &str, items: Vec<Value>, updated_at: i64) -> Value {
    json!({
        "object": "commerce_subscription", "id": id, "status": status, "active_at": updated_at,
        "created_at": updated_at, "updated_at": updated_at, "latest_payment_id": "cpay_fake",
        "payer_id": format!("cpayer_{payer_id}"), "payer": payer(payer_id), "payment_source_id": "cps_fake",
        "items": items
    })
}

/// A payment attempt for `items`, last changed at `updated_at` (ms).
pub fn payment_attempt(id: &str, payer_id: &str, status: &str, items: Vec<Value>, updated_at: i64) -> Value {
    json!({
        "object": "commerce_payment_attempt", "id": id, "instance_id": "ins_fake_primary", "payment_id": "cpay_fake",
        "statement_id": "cstmt_fake", "gateway_external_id": "pi_fake", "status": status,
        "created_at": updated_at, "updated_at": updated_at, "billing_date": updated_at, "charge_type": "recurring",
        "payee": { "id": "cpayee_fake", "gateway_type": "stripe", "gateway_external_id": "acct_fake", "gateway_status": "active" },
        "payer": payer(payer_id),
        "totals": { "subtotal": money(0), "tax_total": money(0), "grand_total": money(0) },
        "payment_source": { "id": "cps_fake", "gateway": "stripe", "gateway_external_id": "pm_fake", "payment_method": "card", "status": "active" },
        "subscription_items": items
    })
}

fn money(amount: i64) -> Value {
    json!({ "amount": amount, "amount_formatted": format!("{}.{:02}", amount / 100, amount % 100), "currency": "USD", "currency_symbol": "$" })
}

/// A subscription as the Backend API answers it (`BillingSubscriptionJSON`): items under
/// `subscription_items`, each with its own `updated_at` and the full plan (`fee` as money).
pub fn api_subscription(id: &str, status: &str, items: Vec<Value>, updated_at: i64) -> Value {
    json!({
        "object": "commerce_subscription", "id": id, "instance_id": "ins_fake_primary", "status": status,
        "payer_id": "cpayer_fake", "created_at": updated_at, "updated_at": updated_at, "active_at": updated_at,
        "past_due_at": null, "subscription_items": items
    })
}

/// A subscription item as the Backend API answers it (`BillingSubscriptionItemJSON`).
pub fn api_subscription_item(id: &str, slug: &str, name: &str, amount: i64, status: &str, updated_at: i64) -> Value {
    json!({
        "object": "commerce_subscription_item", "id": id, "instance_id": "ins_fake_primary", "status": status,
        "plan_period": "month", "payer_id": "cpayer_fake", "period_start": updated_at,
        "period_end": updated_at + 30 * 86_400_000i64, "is_free_trial": false, "ended_at": null,
        "created_at": updated_at, "updated_at": updated_at, "canceled_at": null, "past_due_at": null,
        "plan": api_plan(slug, name, amount, "user"),
        "plan_id": format!("cplan_{slug}")
    })
}

/// A plan as the Backend API answers it (`BillingPlanJSON`): `fee` as money, for `payer_type`
/// (`user` or `org`).
pub fn api_plan(slug: &str, name: &str, amount: i64, payer_type: &str) -> Value {
    json!({
        "object": "commerce_plan", "id": format!("cplan_{slug}"), "name": name, "slug": slug, "description": null,
        "is_default": amount == 0, "is_recurring": true, "has_base_fee": amount > 0, "publicly_visible": true,
        "fee": money(amount), "annual_fee": null, "annual_monthly_fee": null, "for_payer_type": payer_type,
        "features": [], "free_trial_days": null, "free_trial_enabled": false, "avatar_url": null
    })
}
