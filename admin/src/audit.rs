//! `/admin/audit`: every admin change, newest first.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::{
    AuditView,
    layout::{AdminShell, Pager, admin_error},
};
use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditList {
    pub entries: Vec<AuditView>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

#[server(prefix = "/api/admin", endpoint = "audit")]
pub async fn list_audit(#[server(default)] page: i64) -> Result<AuditList, AppError> {
    let (_admin, state) = super::ssr::admin()?;
    let found = backend::db::audit_log::list(&state.db, page).await.map_err(AppError::internal)?;
    let pages = found.pages();
    Ok(AuditList {
        entries: found.items.into_iter().map(AuditView::from).collect(),
        total: found.total,
        page: found.page,
        pages,
    })
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_query_map();
    let page = Memo::new(move |_| params.with(|p| p.get("page").and_then(|n| n.parse().ok()).unwrap_or(1)));
    let audit = Resource::new(move || page.get(), list_audit);
    view! {
        <AdminShell>
            <h1>"Audit log"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || audit.get().map(|r| match r {
                    Ok(list) => view! {
                        <AuditTable entries=list.entries />
                        <Pager page=list.page pages=list.pages total=list.total base=String::new() />
                    }.into_any(),
                    Err(e) => admin_error(e),
                })}
            </Transition>
        </AdminShell>
    }
}

/// Audit entries with each changed field's before and after.
#[component]
pub fn AuditTable(entries: Vec<AuditView>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="muted">"No changes recorded."</p> }.into_any();
    }
    let object_link = |e: &AuditView| match e.object_type.as_str() {
        "user" => format!("/admin/users/{}", e.object_id),
        "organization" => format!("/admin/orgs/{}", e.object_id),
        _ => "#".to_owned(),
    };
    view! {
        <div class="table-wrap">
            <table class="data" data-testid="audit-table">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Object"</th><th>"Changes"</th></tr></thead>
                <tbody>
                    {entries.iter().map(|e| view! {
                        <tr>
                            <td>{e.at.clone()}</td>
                            <td>{e.actor.clone()}</td>
                            <td>{e.action.clone()}</td>
                            <td><a href=object_link(e)>{format!("{} {}", e.object_type, e.object_id)}</a></td>
                            <td>
                                <ul class="changes">
                                    {e.changes.iter().map(|(field, before, after)| {
                                        match before {
                                            None => view! { <li><b>{field.clone()}</b>": "{after.clone()}</li> }.into_any(),
                                            Some(before) => view! {
                                                <li><b>{field.clone()}</b>": "<del>{before.clone()}</del>" → "<ins>{after.clone()}</ins></li>
                                            }.into_any(),
                                        }
                                    }).collect_view()}
                                </ul>
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
