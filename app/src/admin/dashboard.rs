//! `/admin`: counts of what we mirror, and the latest webhook deliveries (failures stand out).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    EventView,
    layout::{AdminShell, admin_error},
};
use crate::error::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub active_users: i64,
    pub inactive_users: i64,
    pub deleted_users: i64,
    pub staff_users: i64,
    pub organizations: i64,
    pub memberships: i64,
    pub events: Vec<EventView>,
}

#[server(prefix = "/api/admin", endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    let (_admin, state) = super::ssr::admin()?;
    let counts = state.admin_cache.counts(&state.db).await.map_err(AppError::internal)?;
    let events = backend::db::webhook_events::recent(&state.db, 20).await.map_err(AppError::internal)?;
    Ok(Dashboard {
        active_users: counts.active_users,
        inactive_users: counts.inactive_users,
        deleted_users: counts.deleted_users,
        staff_users: counts.staff_users,
        organizations: counts.organizations,
        memberships: counts.memberships,
        events: events.into_iter().map(EventView::from).collect(),
    })
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_dashboard());
    view! {
        <AdminShell>
            <h1>"Dashboard"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || data.get().map(|r| match r {
                    Ok(d) => view! { <DashboardView d /> }.into_any(),
                    Err(e) => admin_error(e),
                })}
            </Transition>
        </AdminShell>
    }
}

#[component]
fn DashboardView(d: Dashboard) -> impl IntoView {
    let tile = |label: &'static str, n: i64, href: &'static str| {
        view! {
            <a class="tile" href=href>
                <span class="tile-number">{n}</span>
                <span class="tile-label">{label}</span>
            </a>
        }
    };
    view! {
        <div class="tiles" data-testid="counts">
            {tile("active users", d.active_users, "/admin/users?active=yes&deleted=no")}
            {tile("inactive users", d.inactive_users, "/admin/users?active=no&deleted=no")}
            {tile("deleted users", d.deleted_users, "/admin/users?deleted=yes")}
            {tile("staff", d.staff_users, "/admin/users?staff=yes")}
            {tile("organizations", d.organizations, "/admin/orgs")}
            {tile("memberships", d.memberships, "/admin/orgs")}
        </div>
        <h2>"Latest webhook events"</h2>
        <EventsTable events=d.events />
    }
}

/// Webhook deliveries, newest first; anything that did not end well is highlighted.
#[component]
pub fn EventsTable(events: Vec<EventView>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="muted">"No webhook events yet."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data">
                <thead>
                    <tr><th>"Received"</th><th>"Type"</th><th>"Status"</th><th>"Object"</th><th>"Svix id"</th></tr>
                </thead>
                <tbody>
                    {events.into_iter().map(|e| {
                        let class = if e.failed() { "failed" } else { "" };
                        view! {
                            <tr class=class>
                                <td>{e.received_at.clone()}</td>
                                <td>{e.event_type.clone()}</td>
                                <td>
                                    <span class="badge">{e.status.clone()}</span>
                                    {e.error.clone().map(|err| view! { <span class="error">" " {err}</span> })}
                                </td>
                                <td><code>{e.object_id.clone().unwrap_or_default()}</code></td>
                                <td><code>{e.svix_id.clone()}</code></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
