//! Billing in the admin: a payer's subscription items (plan, status, period end, history) on the
//! user and organization pages, counts by plan and status on `/admin/plans` and the dashboard,
//! and a superuser's "cancel at period end".

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    pub clerk_id: String,
    pub plan: String,
    pub status: String,
    pub period_end: String,
    pub canceled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayerBilling {
    pub items: Vec<ItemView>,
    pub viewer_is_superuser: bool,
}

/// `(plan, payer type, status, items)`; a plan nobody is on has status `""` and 0 items.
pub type PlanCounts = Vec<(String, String, String, i64)>;

#[cfg(feature = "ssr")]
fn day(millis: Option<i64>) -> String {
    millis
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A user's (`kind=user`) or organization's (`kind=org`) items, newest period first.
#[server(prefix = "/api/admin", endpoint = "billing")]
pub async fn get_payer_billing(kind: String, id: i64) -> Result<PayerBilling, AppError> {
    use crate::error::edit_error;

    let (admin, state) = crate::ssr::admin()?;
    let items = match kind.as_str() {
        "user" => backend::admin::billing::of_user(&state.db, ids::UserId(id)).await,
        "org" => backend::admin::billing::of_org(&state.db, ids::OrgId(id)).await,
        _ => return Err(AppError::BadRequest("kind is user or org".into())),
    }
    .map_err(edit_error)?;
    let items = items
        .into_iter()
        .map(|i| ItemView {
            plan: if i.plan_name.is_empty() {
                i.plan_slug.clone()
            } else {
                format!("{} ({})", i.plan_name, i.plan_slug)
            },
            period_end: day(i.period_end),
            canceled: i.canceled_at.is_some(),
            status: i.status,
            clerk_id: i.clerk_id,
        })
        .collect();
    Ok(PayerBilling { items, viewer_is_superuser: admin.is_superuser })
}

/// Cancels a subscription item at the end of its period, through Clerk. Superusers only.
#[server(prefix = "/api/admin", endpoint = "billing-cancel")]
pub async fn cancel_subscription_item(id: String) -> Result<String, AppError> {
    let (admin, state) = crate::ssr::admin()?;
    let changed = backend::admin::billing::cancel_item(&state.db, &state.clerk_writes, admin.actor(), &id)
        .await
        .map_err(crate::error::edit_error)?;
    Ok(state.invalidations.settle(changed).await.status)
}

/// Subscription items by plan and status.
#[server(prefix = "/api/admin", endpoint = "plans")]
pub async fn get_plan_counts() -> Result<PlanCounts, AppError> {
    let (_, state) = crate::ssr::admin()?;
    let rows = backend::db::billing::counts_by_plan(&state.db).await.map_err(AppError::internal)?;
    Ok(rows
        .into_iter()
        .map(|c| (if c.name.is_empty() { c.slug } else { c.name }, c.payer_type, c.status, c.items))
        .collect())
}

#[component]
pub fn BillingSection(kind: &'static str, id: i64) -> impl IntoView {
    let cancel = ServerAction::<CancelSubscriptionItem>::new();
    let billing = Resource::new(move || cancel.version().get(), move |_| get_payer_billing(kind.to_owned(), id));
    view! {
        <h2>"Billing"</h2>
        <Transition fallback=|| ()>
            {move || billing.get().map(|result| match result {
                Ok(b) if b.items.is_empty() => view! { <p class="muted">"No subscriptions."</p> }.into_any(),
                Ok(b) => view! {
                    <div class="table-wrap"><table class="data" data-testid="billing">
                        <thead><tr><th>"Plan"</th><th>"Status"</th><th>"Period ends"</th><th></th></tr></thead>
                        <tbody>
                            {b.items.into_iter().map(|i| {
                                let open = !i.canceled && matches!(i.status.as_str(), "active" | "past_due" | "upcoming");
                                view! {
                                    <tr>
                                        <td>{i.plan.clone()}</td>
                                        <td>{i.status.clone()}</td>
                                        <td>{i.period_end.clone()}</td>
                                        <td>{(b.viewer_is_superuser && open).then(|| view! {
                                            <ActionForm action=cancel attr:class="inline-form">
                                                <input type="hidden" name="id" value=i.clerk_id.clone() />
                                                <button type="submit">"Cancel at period end"</button>
                                            </ActionForm>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any(),
                Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
        {move || match cancel.value().get() {
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }),
            _ => None,
        }}
    }
}

/// Counts by plan and status, as a table (the plans page and the dashboard).
#[component]
pub fn PlanCountsTable() -> impl IntoView {
    let counts = Resource::new(|| (), |_| get_plan_counts());
    view! {
        <Transition fallback=|| ()>
            {move || counts.get().map(|result| match result {
                Ok(rows) if rows.is_empty() => view! { <p class="muted">"No subscriptions yet."</p> }.into_any(),
                Ok(rows) => view! {
                    <div class="table-wrap"><table class="data" data-testid="plan-counts">
                        <thead><tr><th>"Plan"</th><th>"For"</th><th>"Status"</th><th>"Items"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|(plan, payer, status, n)| view! {
                                <tr>
                                    <td>{plan}</td>
                                    <td>{payer}</td>
                                    <td>{if status.is_empty() { "no subscribers".to_owned() } else { status }}</td>
                                    <td>{n}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any(),
                Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
pub fn PlansPage() -> impl IntoView {
    view! {
        <crate::layout::AdminShell>
            <h1>"Plans"</h1>
            <p class="muted">"Clerk Billing's plans (from `server sync-billing`) and their subscription items, mirrored from its webhooks."</p>
            <PlanCountsTable />
        </crate::layout::AdminShell>
    }
}
