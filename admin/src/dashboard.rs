//! `/admin`: counts of what we mirror, charts (server-rendered SVG), the last background
//! reconciliation, and the latest webhook deliveries (failures stand out).

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
    /// `CLERK_RECONCILE_INTERVAL` in seconds, when on.
    pub reconcile_every_secs: Option<u64>,
    pub last_reconcile: Option<ReconcileView>,
    /// The charts, `<figure>`s of SVG and their tables rendered on the server (see
    /// `backend::admin::charts`): the browser only inserts them.
    pub charts: String,
}

/// The newest background reconciliation run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileView {
    pub started_at: String,
    /// None while it runs.
    pub duration_ms: Option<i64>,
    pub instance: String,
    pub created: i64,
    pub updated: i64,
    pub pruned: i64,
    pub errors: i64,
    pub error: Option<String>,
}

#[server(prefix = "/api/admin", endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    let (_admin, state) = super::ssr::admin()?;
    let counts = state.admin_cache.counts(&state.db).await.map_err(AppError::internal)?;
    let events = backend::db::webhook_events::recent(&state.db, 20).await.map_err(AppError::internal)?;
    let runs = backend::db::reconcile_runs::recent(&state.db, 1).await.map_err(AppError::internal)?;
    let charts = backend::admin::charts::dashboard(&state.db).await.map_err(AppError::internal)?;
    Ok(Dashboard {
        active_users: counts.active_users,
        inactive_users: counts.inactive_users,
        deleted_users: counts.deleted_users,
        staff_users: counts.staff_users,
        organizations: counts.organizations,
        memberships: counts.memberships,
        events: events.into_iter().map(EventView::from).collect(),
        reconcile_every_secs: state.config.reconcile_interval.map(|i| i.as_secs()),
        last_reconcile: runs.into_iter().next().map(|run| ReconcileView {
            started_at: super::ssr::time(run.started_at),
            duration_ms: run.finished_at.map(|end| (end - run.started_at).num_milliseconds()),
            instance: run.instance,
            created: run.created,
            updated: run.updated,
            pruned: run.pruned,
            errors: run.errors,
            error: run.error,
        }),
        charts: charts.iter().map(backend::admin::charts::Chart::to_html).collect::<Vec<_>>().concat(),
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
            <h2>"Subscriptions by plan"</h2>
            <crate::billing::PlanCountsTable />
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
        <h2>"Activity"</h2>
        <div class="charts" data-testid="charts" inner_html=d.charts></div>
        <h2>"Reconciliation"</h2>
        <Reconciliation every_secs=d.reconcile_every_secs last=d.last_reconcile />
        <h2>"Latest webhook events"</h2>
        <EventsTable events=d.events />
    }
}

/// `6h`, `30m`, `90s`: as `CLERK_RECONCILE_INTERVAL` is written.
fn interval(secs: u64) -> String {
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Whether the background sync is on, and what its last run did. Drift (anything it changed)
/// means webhooks were missed, so it stands out.
#[component]
fn Reconciliation(every_secs: Option<u64>, last: Option<ReconcileView>) -> impl IntoView {
    let schedule = match every_secs {
        Some(secs) => format!("Runs every {} on one instance at a time.", interval(secs)),
        None => "Off: set CLERK_RECONCILE_INTERVAL (e.g. 6h) to repair what missed webhooks leave.".into(),
    };
    let last = last.map(|run| {
        let drift = run.created + run.updated + run.pruned;
        let took = match run.duration_ms {
            Some(ms) => format!("took {:.1} s", ms as f64 / 1000.0),
            None => "still running".into(),
        };
        let class = if drift > 0 || run.errors > 0 || run.error.is_some() { "failed" } else { "" };
        view! {
            <p class=class data-testid="last-reconcile">
                "Last run " {run.started_at} " (" {run.instance} "), " {took} ": "
                {format!("created {}, updated {}, pruned {}, errors {}", run.created, run.updated, run.pruned, run.errors)}
                {(drift > 0).then(|| view! { <strong>" Drift corrected: webhooks were missed."</strong> })}
                {run.error.map(|e| view! { <span class="error">" " {e}</span> })}
            </p>
        }
    });
    view! {
        <p class="muted">{schedule}</p>
        {last}
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
                                <td><code>{e.svix_id.to_string()}</code></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
