//! `/admin/orgs`: search and page through the mirrored organizations.

use ids::{ClerkOrgId, OrgId};
use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    layout::{AdminShell, Pager, admin_error, query_string},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRow {
    pub id: OrgId,
    pub clerk_id: ClerkOrgId,
    pub name: String,
    pub slug: Option<String>,
    pub members_count: Option<i64>,
    pub deleted: bool,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgList {
    pub rows: Vec<OrgRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

#[server(prefix = "/api/admin", endpoint = "orgs")]
pub async fn list_orgs(#[server(default)] q: String, #[server(default)] page: i64) -> Result<OrgList, AppError> {
    use crate::ssr::time;

    let (_admin, state) = crate::ssr::admin()?;
    let found = state.admin_cache.orgs(&state.db, Some(&q), page).await.map_err(AppError::internal)?;
    let pages = found.pages();
    Ok(OrgList {
        rows: found
            .items
            .iter()
            .map(|o| OrgRow {
                id: o.id,
                clerk_id: o.clerk_id.clone(),
                name: o.name.clone(),
                slug: o.slug.clone(),
                members_count: o.members_count,
                deleted: o.deleted_at.is_some(),
                created_at: time(o.created_at),
            })
            .collect(),
        total: found.total,
        page: found.page,
        pages,
    })
}

#[component]
pub fn OrgsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params.with(|p| (p.get("q").unwrap_or_default(), p.get("page").and_then(|n| n.parse().ok()).unwrap_or(1)))
    });
    let orgs = Resource::new(move || query.get(), |(q, page)| list_orgs(q, page));
    view! {
        <AdminShell>
            <h1>"Organizations"</h1>
            {move || view! {
                <Form method="GET" action="" attr:class="filters">
                    <label class="grow">
                        "Search"
                        <input type="search" name="q" value=query.get().0 placeholder="name, slug or Clerk id" />
                    </label>
                    <button type="submit">"Search"</button>
                </Form>
            }}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                // `try_`: see the users list (values disposed under a render that goes on).
                {move || orgs.try_get().flatten().map(|r| match r {
                    Ok(list) => {
                        let base = query.try_with_untracked(|q| query_string(&[("q", &q.0)])).unwrap_or_default();
                        view! { <OrgsTable list base /> }.into_any()
                    }
                    Err(e) => admin_error(e),
                })}
            </Transition>
        </AdminShell>
    }
}

#[component]
fn OrgsTable(list: OrgList, base: String) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data" data-testid="orgs-table">
                <thead><tr><th>"Name"</th><th>"Slug"</th><th>"Clerk id"</th><th>"Members"</th><th>"Created"</th></tr></thead>
                <tbody>
                    {list.rows.iter().map(|o| view! {
                        <tr class=if o.deleted { "deleted" } else { "" }>
                            <td><a href=format!("/admin/orgs/{}", o.id)>{if o.name.is_empty() { "(unnamed)".to_owned() } else { o.name.clone() }}</a>
                                {o.deleted.then_some(" (deleted)")}</td>
                            <td>{o.slug.clone().unwrap_or_default()}</td>
                            <td><code>{o.clerk_id.to_string()}</code></td>
                            <td>{o.members_count.map(|n| n.to_string()).unwrap_or_default()}</td>
                            <td>{o.created_at.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {list.rows.is_empty().then(|| view! { <p class="muted">"No organizations match."</p> })}
        <Pager page=list.page pages=list.pages total=list.total base />
    }
}
