//! `/admin/users`: search, filter, sort and page through the mirrored users. The query lives in
//! the URL, so back, forward and reload keep it; paging happens in SQL.

use ids::{ClerkUserId, UserId};
use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    layout::{AdminShell, Pager, TriState, admin_error, query_string},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: UserId,
    pub clerk_id: Option<ClerkUserId>,
    pub email: String,
    pub username: Option<String>,
    pub name: String,
    /// "deleted" or "inactive", then "superuser" or "staff": what the Flags column shows.
    pub flags: String,
    pub created_at: String,
    pub last_sign_in_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub rows: Vec<UserRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

/// One page of users. `active`, `staff` and `deleted` take `yes` or `no` (anything else: no
/// filter); `joined_from` and `joined_to` are dates (`YYYY-MM-DD`, UTC, both inclusive);
/// `sort` is `created` (default), `last_sign_in` or `email`. `after`, a user id (the Next link's,
/// the previous page's last row), reads the page from that row on instead of counting past
/// every earlier one; `page` then only numbers it.
#[server(prefix = "/api/admin", endpoint = "users")]
pub async fn list_users(
    #[server(default)] q: String,
    #[server(default)] active: String,
    #[server(default)] staff: String,
    #[server(default)] deleted: String,
    #[server(flatten)] joined: JoinedRange,
    #[server(default)] sort: String,
    #[server(flatten)] at: PageAt,
) -> Result<UserList, AppError> {
    use backend::db::user_search::{UserFilter, UserSort};

    use crate::{layout::tri_state, ssr::time};

    let (_admin, state) = crate::ssr::admin()?;
    let joined_from = day_start(&joined.joined_from, "joined_from", 0)?;
    let joined_before = day_start(&joined.joined_to, "joined_to", 1)?;
    let PageAt { page, after } = at;
    let page = whole_number(&page, "page", "A page number")?.unwrap_or(1);
    let after = whole_number(&after, "after", "A user id")?.map(UserId);
    let filter = UserFilter {
        joined_from,
        joined_before,
        search: Some(q).filter(|q| !q.trim().is_empty()),
        active: tri_state(&active),
        staff: tri_state(&staff),
        deleted: tri_state(&deleted),
        sort: match sort.as_str() {
            "last_sign_in" => UserSort::LastSignIn,
            "email" => UserSort::Email,
            _ => UserSort::Created,
        },
    };
    let found = state.admin_cache.users(&state.db, &filter, page, after).await.map_err(AppError::internal)?;
    let pages = found.pages();
    Ok(UserList {
        rows: found
            .items
            .iter()
            .map(|u| UserRow {
                id: u.id,
                name: backend::db::users::full_name(&u.first_name, &u.last_name),
                clerk_id: u.clerk_id.clone(),
                email: u.email.clone(),
                username: u.username.clone(),
                flags: flags(u),
                created_at: time(u.created_at),
                last_sign_in_at: u.last_sign_in_at.map(time),
            })
            .collect(),
        total: found.total,
        page: found.page,
        pages,
    })
}

/// Which page, flattened: on the wire it is `page` and `after`, like the page's query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PageAt {
    /// Strings, as a flattened form field only can be.
    pub page: String,
    pub after: String,
}

/// The joined-date filter, flattened: on the wire it is `joined_from` and `joined_to`, like the
/// page's query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JoinedRange {
    pub joined_from: String,
    pub joined_to: String,
}

/// `raw` as a whole number, none if empty; anything else is refused beside `field`.
#[cfg(feature = "ssr")]
fn whole_number(raw: &str, field: &str, message: &str) -> Result<Option<i64>, AppError> {
    match raw.trim() {
        "" => Ok(None),
        raw => raw.parse().map(Some).map_err(|_| {
            AppError::Validation(vec![crate::error::FieldMessage { field: field.into(), message: message.into() }])
        }),
    }
}

/// The start of the day `raw` (`YYYY-MM-DD`, UTC) plus `days_after` days; empty means none.
#[cfg(feature = "ssr")]
fn day_start(raw: &str, field: &str, days_after: u64) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_days(chrono::Days::new(days_after)))
        .and_then(|d| d.and_hms_opt(0, 0, 0));
    match day {
        Some(day) => Ok(Some(day.and_utc())),
        None => Err(AppError::Validation(vec![crate::error::FieldMessage {
            field: field.to_owned(),
            message: "A date like 2026-12-31".into(),
        }])),
    }
}

/// The list's query, as the URL holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ListQuery {
    q: String,
    active: String,
    staff: String,
    deleted: String,
    joined_from: String,
    joined_to: String,
    sort: String,
    page: i64,
    after: String,
}

impl ListQuery {
    /// Whether the next page can be read on from this one's last row: not for a text search
    /// (its matches are found once, then paged) nor by last sign-in (see `UserSort::after`).
    fn seekable(&self) -> bool {
        self.q.trim().is_empty() && self.sort != "last_sign_in"
    }

    /// `key=value&…` without the page, for links that keep the query.
    fn base(&self) -> String {
        query_string(&[
            ("q", &self.q),
            ("active", &self.active),
            ("staff", &self.staff),
            ("deleted", &self.deleted),
            ("joined_from", &self.joined_from),
            ("joined_to", &self.joined_to),
            ("sort", &self.sort),
        ])
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params.with(|p| {
            let get = |k: &str| p.get(k).unwrap_or_default();
            ListQuery {
                q: get("q"),
                active: get("active"),
                staff: get("staff"),
                deleted: get("deleted"),
                joined_from: get("joined_from"),
                joined_to: get("joined_to"),
                sort: get("sort"),
                page: get("page").parse().unwrap_or(1),
                after: get("after"),
            }
        })
    });
    let users = Resource::new(
        move || query.get(),
        |q| {
            let joined = JoinedRange { joined_from: q.joined_from, joined_to: q.joined_to };
            list_users(
                q.q,
                q.active,
                q.staff,
                q.deleted,
                joined,
                q.sort,
                PageAt { page: q.page.to_string(), after: q.after },
            )
        },
    );

    view! {
        <AdminShell>
            <h1>"Users"</h1>
            {move || {
                let q = query.get();
                view! {
                    <Form method="GET" action="" attr:class="filters">
                        <label class="grow">
                            "Search"
                            <input type="search" name="q" value=q.q.clone() placeholder="email, name, username or Clerk id" />
                        </label>
                        <TriState name="active" label="Active" value=q.active.clone() />
                        <TriState name="staff" label="Staff" value=q.staff.clone() />
                        <TriState name="deleted" label="Deleted" value=q.deleted.clone() />
                        <label>"Joined from" <input type="date" name="joined_from" value=q.joined_from.clone() /></label>
                        <label>"to" <input type="date" name="joined_to" value=q.joined_to.clone() /></label>
                        <label>
                            "Sort"
                            <select name="sort">
                                <option value="created" selected=q.sort.is_empty() || q.sort == "created">"newest"</option>
                                <option value="last_sign_in" selected=q.sort == "last_sign_in">"last sign-in"</option>
                                <option value="email" selected=q.sort == "email">"email"</option>
                            </select>
                        </label>
                        <button type="submit">"Search"</button>
                    </Form>
                }
            }}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                // `try_`: a client that goes away mid-render disposes the page's values while
                // the SSR task may still run this once more (it panicked with plain reads).
                {move || users.try_get().flatten().map(|r| match r {
                    Ok(list) => {
                        let (base, seekable) = query
                            .try_with_untracked(|q| (q.base(), q.seekable()))
                            .unwrap_or_default();
                        view! { <UsersTable list base seekable /> }.into_any()
                    }
                    Err(e) => admin_error(e),
                })}
            </Transition>
        </AdminShell>
    }
}

/// The row's flags, computed on the server so the page carries one short string per row.
#[cfg(feature = "ssr")]
fn flags(u: &backend::db::user_search::UserListItem) -> String {
    let state = if u.deleted_at.is_some() {
        Some("deleted")
    } else if !u.is_active {
        Some("inactive")
    } else {
        None
    };
    let role = if u.is_superuser {
        Some("superuser")
    } else if u.is_staff {
        Some("staff")
    } else {
        None
    };
    [state, role].into_iter().flatten().collect::<Vec<_>>().join(", ")
}

#[component]
fn UsersTable(list: UserList, base: String, seekable: bool) -> impl IntoView {
    let UserList { rows, total, page, pages } = list;
    let empty = rows.is_empty();
    // Next reads on from this page's last row (keyset paging) where the order allows it.
    let next = rows.last().filter(|_| seekable).map(|row| format!("after={}", row.id));
    view! {
        <div class="table-wrap">
            <table class="data" data-testid="users-table">
                <thead>
                    <tr><th>"Email"</th><th>"Name"</th><th>"Username"</th><th>"Clerk id"</th><th>"Flags"</th><th>"Created"</th><th>"Last sign-in"</th></tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|u| view! {
                        <tr>
                            <td><a href=format!("/admin/users/{}", u.id)>{if u.email.is_empty() { "(no email)".to_owned() } else { u.email }}</a></td>
                            <td>{u.name}</td>
                            <td>{u.username.unwrap_or_default()}</td>
                            <td><code>{u.clerk_id.map_or_else(|| "staff only".into(), String::from)}</code></td>
                            <td>{u.flags}</td>
                            <td>{u.created_at}</td>
                            <td>{u.last_sign_in_at.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {empty.then(|| view! { <p class="muted">"No users match."</p> })}
        <Pager page pages total base next />
    }
}
