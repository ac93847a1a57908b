//! The admin's user listing: search, filters, a sort that an index serves, and one page.

use super::{
    Db,
    listing::{Bind, Filter, PAGE_SIZE, Page, offset_of},
    users::{COLUMNS, User},
};
use crate::{bind_all, on_pool};

/// How the list is ordered. Each order has an index, with `id` breaking ties.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UserSort {
    /// Newest first.
    #[default]
    Created,
    /// Most recent Clerk sign-in first; never signed in last.
    LastSignIn,
    /// A to Z.
    Email,
}

impl UserSort {
    fn order_by(self) -> &'static str {
        match self {
            Self::Created => "created_at DESC, id DESC",
            Self::LastSignIn => "last_sign_in_at DESC NULLS LAST, id DESC",
            Self::Email => "email ASC, id ASC",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserFilter {
    /// Matched against email, username, first and last name, and `clerk_id`.
    pub search: Option<String>,
    pub active: Option<bool>,
    pub staff: Option<bool>,
    pub deleted: Option<bool>,
    pub sort: UserSort,
}

/// One page of users matching `filter`: the page's rows and one `COUNT` of all matches.
pub async fn search(db: &Db, filter: &UserFilter, page: i64) -> Result<Page<User>, sqlx::Error> {
    let (page, offset) = offset_of(page);
    let mut f = Filter::default();
    if let Some(text) = filter.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        f.search(text, &["email", "username", "first_name", "last_name", "clerk_id"]);
    }
    if let Some(active) = filter.active {
        let p = f.param(Bind::Bool(active));
        f.and(format!("is_active = {p}"));
    }
    if let Some(staff) = filter.staff {
        let p = f.param(Bind::Bool(staff));
        f.and(format!("is_staff = {p}"));
    }
    match filter.deleted {
        Some(true) => f.and("deleted_at IS NOT NULL".into()),
        Some(false) => f.and("deleted_at IS NULL".into()),
        None => {}
    }
    let where_sql = f.sql();
    let count_sql = format!("SELECT COUNT(*) FROM users{where_sql}");
    let n = f.binds.len();
    let page_sql = format!(
        "SELECT {COLUMNS} FROM users{where_sql} ORDER BY {} LIMIT ${} OFFSET ${}",
        filter.sort.order_by(),
        n + 1,
        n + 2
    );
    let mut page_binds = f.binds.clone();
    page_binds.extend([Bind::Int(PAGE_SIZE), Bind::Int(offset)]);
    let (total, items) = on_pool!(db, pool => {
        let total: i64 = bind_all!(sqlx::query_scalar(&count_sql), &f.binds).fetch_one(pool).await?;
        let items: Vec<User> = bind_all!(sqlx::query_as(&page_sql), &page_binds).fetch_all(pool).await?;
        (total, items)
    });
    Ok(Page { items, total, page, per_page: PAGE_SIZE })
}
