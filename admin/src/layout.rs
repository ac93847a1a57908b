//! The admin's frame (navigation, who is logged in, log out), the pager, and small pieces
//! every admin page shares.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use super::login::StaffLogout;
use crate::{error::AppError, error_page::ErrorPageBoundary};

#[component]
pub fn AdminShell(children: Children) -> impl IntoView {
    let logout = ServerAction::<StaffLogout>::new();
    view! {
        <div class="admin">
            <nav class="admin-nav" aria-label="Admin">
                <a href="/admin">"Dashboard"</a>
                <a href="/admin/users">"Users"</a>
                <a href="/admin/orgs">"Organizations"</a>
                <a href="/admin/plans">"Plans"</a>
                <a href="/admin/staff">"Staff"</a>
                <a href="/admin/audit">"Audit log"</a>
                <ActionForm action=logout attr:class="inline-form admin-logout">
                    <button type="submit" class="link-button">"Log out"</button>
                </ActionForm>
            </nav>
            <div class="admin-body">
                <ErrorPageBoundary>{children()}</ErrorPageBoundary>
            </div>
        </div>
    }
}

/// What an admin page shows when its data failed: the login page for 401/403, else the error.
pub fn admin_error(err: AppError) -> AnyView {
    crate::error_page::set_page_status(&err);
    match err {
        AppError::Forbidden(_) | AppError::Unauthorized(_) => view! { <Redirect path=super::LOGIN_PATH /> }.into_any(),
        AppError::NotFound => view! { <p class="error">"Not found."</p> }.into_any(),
        other => view! { <p class="error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// Previous / next links that keep the rest of the query (`base` is `key=value&…` or empty).
#[component]
pub fn Pager(
    page: i64,
    pages: i64,
    total: i64,
    base: String,
    /// The query parameter that holds the page number.
    #[prop(default = "page")]
    param: &'static str,
    /// More of the Next link's query (`after=<id>`: keyset paging).
    #[prop(optional_no_strip)]
    next: Option<String>,
) -> impl IntoView {
    let link = move |p: i64| {
        if base.is_empty() { format!("?{param}={p}") } else { format!("?{base}&{param}={p}") }
    };
    let next_link = match next {
        Some(extra) => format!("{}&{extra}", link(page + 1)),
        None => link(page + 1),
    };
    view! {
        <div class="pager" data-testid="pager">
            <span>{format!("{total} total · page {page} of {pages}")}</span>
            {(page > 1).then(|| view! { <a href=link(page - 1) rel="prev">"← Previous"</a> })}
            {(page < pages).then(|| view! { <a href=next_link rel="next">"Next →"</a> })}
        </div>
    }
}

/// A yes / no / any select for a filter.
#[component]
pub fn TriState(name: &'static str, label: &'static str, value: String) -> impl IntoView {
    view! {
        <label>
            {label}
            <select name=name>
                <option value="" selected=value.is_empty()>"any"</option>
                <option value="yes" selected=value == "yes">"yes"</option>
                <option value="no" selected=value == "no">"no"</option>
            </select>
        </label>
    }
}

/// The error message for `field` from an action's last result, for display beside the field.
pub fn field_error<T, S>(value: S, field: &'static str) -> impl Fn() -> Option<AnyView> + Send + Sync + 'static
where
    T: Send + Sync + 'static,
    S: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value
            .with(|v| match v {
                Some(Err(e)) => e.field_message(field),
                _ => None,
            })
            .map(|m| view! { <span class="field-error" role="alert">{m}</span> }.into_any())
    }
}

/// `yes`/`no` → a filter value; anything else → no filter.
pub fn tri_state(value: &str) -> Option<bool> {
    match value {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// `key=value&…` with each value URL-encoded, skipping empty values.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
