//! Clerk Billing's objects as rows, from webhook payloads (`@clerk/backend` 3.25.0's
//! `BillingSubscriptionWebhookEventJSON`, `…SubscriptionItem…`, `…PaymentAttempt…`) and from the
//! Backend API's `BillingSubscription` (which names its items `subscription_items`, its webhook
//! twin `items`). A payer is a user or an organization (`payer.user_id`, `payer.organization_id`).

use serde_json::Value;

use crate::{
    clerk::mapping::MappingError,
    db::billing::{ItemFields, Payer, PlanFields, SubscriptionFields},
};

fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

fn payer(v: &Value) -> Payer {
    Payer { user: text(&v["user_id"]), org: text(&v["organization_id"]) }
}

/// A subscription and its items. `version` is the event's when the payload has no `updated_at`.
pub fn subscription(
    data: &Value,
    event_version: Option<i64>,
) -> Result<(SubscriptionFields, Vec<ItemFields>), MappingError> {
    let clerk_id = text(&data["id"]).ok_or(MappingError("id"))?;
    let version = data["updated_at"].as_i64().or(event_version).ok_or(MappingError("updated_at"))?;
    // The Backend API's shape names only `payer_id`: its items carry the payer.
    let payer = payer(&data["payer"]);
    let fields = SubscriptionFields {
        clerk_id: clerk_id.clone(),
        status: text(&data["status"]).ok_or(MappingError("status"))?,
        active_at: data["active_at"].as_i64(),
        past_due_at: data["past_due_at"].as_i64(),
        payer: payer.clone(),
        version,
    };
    let list = data.get("items").or_else(|| data.get("subscription_items")).and_then(Value::as_array);
    let items = list
        .into_iter()
        .flatten()
        .map(|item| {
            // The Backend API's items carry their own `updated_at`; webhook items do not.
            let version = item["updated_at"].as_i64().unwrap_or(event_version.unwrap_or(version));
            item_fields(item, Some(&clerk_id), &payer, version)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((fields, items))
}

/// The Backend API's subscription of a payer we know (its JSON names the payer only by
/// `payer_id`): every row gets `payer`.
pub fn subscription_of(data: &Value, payer: &Payer) -> Result<(SubscriptionFields, Vec<ItemFields>), MappingError> {
    let (mut subscription, mut items) = subscription(data, None)?;
    subscription.payer = payer.clone();
    for item in &mut items {
        item.payer = payer.clone();
    }
    Ok((subscription, items))
}

/// A subscription item on its own (`subscriptionItem.*`).
pub fn item(data: &Value, event_version: Option<i64>) -> Result<ItemFields, MappingError> {
    let version = data["updated_at"].as_i64().or(event_version).ok_or(MappingError("timestamp"))?;
    item_fields(data, None, &Payer::default(), version)
}

/// The items a payment attempt paid for (`paymentAttempt.*`), at the attempt's version.
pub fn payment_attempt_items(data: &Value, event_version: Option<i64>) -> Result<Vec<ItemFields>, MappingError> {
    text(&data["id"]).ok_or(MappingError("id"))?;
    let version = event_version.or(data["updated_at"].as_i64()).ok_or(MappingError("updated_at"))?;
    let payer = payer(&data["payer"]);
    data["subscription_items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| item_fields(item, None, &payer, version))
        .collect()
}

/// A plan from the Backend API's listing (`BillingPlanJSON`: `fee` as money).
pub fn plan(data: &Value) -> Result<PlanFields, MappingError> {
    let fee = &data["fee"];
    Ok(PlanFields {
        clerk_id: text(&data["id"]).ok_or(MappingError("plan id"))?,
        slug: text(&data["slug"]).ok_or(MappingError("plan slug"))?,
        name: text(&data["name"]).unwrap_or_default(),
        payer_type: text(&data["for_payer_type"]).unwrap_or_default(),
        is_default: data["is_default"].as_bool().unwrap_or(false),
        fee_amount: fee["amount"].as_i64(),
        currency: text(&fee["currency"]).unwrap_or_default(),
    })
}

fn item_fields(
    item: &Value,
    subscription: Option<&String>,
    parent_payer: &Payer,
    version: i64,
) -> Result<ItemFields, MappingError> {
    let plan = &item["plan"];
    let own_payer = payer(&item["payer"]);
    let payer = if own_payer == Payer::default() { parent_payer.clone() } else { own_payer };
    // Webhooks give `amount` as money (`{amount, currency}`); the plan's is a plain number.
    let (amount, currency) = match &item["amount"] {
        Value::Object(money) => (money.get("amount").and_then(Value::as_i64), money.get("currency").and_then(text)),
        // The Backend API's plan has a money `fee`; the webhook's a plain `amount`.
        _ => match &plan["fee"] {
            Value::Object(fee) => (fee.get("amount").and_then(Value::as_i64), fee.get("currency").and_then(text)),
            _ => (plan["amount"].as_i64(), text(&plan["currency"])),
        },
    };
    Ok(ItemFields {
        clerk_id: text(&item["id"]).ok_or(MappingError("subscription item id"))?,
        subscription_clerk_id: subscription.cloned(),
        payer,
        plan_clerk_id: text(&plan["id"]).or_else(|| text(&item["plan_id"])),
        plan_slug: text(&plan["slug"]).unwrap_or_default(),
        plan_name: text(&plan["name"]).unwrap_or_default(),
        plan_period: text(&item["plan_period"]).unwrap_or_default(),
        status: text(&item["status"]).ok_or(MappingError("subscription item status"))?,
        period_start: item["period_start"].as_i64(),
        period_end: item["period_end"].as_i64(),
        canceled_at: item["canceled_at"].as_i64(),
        past_due_at: item["past_due_at"].as_i64(),
        amount,
        currency: currency.unwrap_or_default(),
        version,
    })
}
