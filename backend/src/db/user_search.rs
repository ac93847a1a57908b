//! The admin's user listing: search, filters, a sort that an index serves, and one page.

use chrono::{DateTime, Utc};
use ids::{ClerkUserId, UserId};

use super::{
    Db,
    listing::{Bind, Filter, Listing, Page, Seek, fetch_page_seeking, like_pattern},
};

/// What a row of the list shows: fewer columns than a whole `User`, so a page decodes fast.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct UserListItem {
    pub id: UserId,
    pub clerk_id: Option<ClerkUserId>,
    pub email: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

const LIST_COLUMNS: &str = "id, clerk_id, email, username, first_name, last_name, is_active, is_staff, \
    is_superuser, deleted_at, created_at, last_sign_in_at";

/// How the list is ordered. Each order has an index, with `id` breaking ties.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
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

    /// The rows after a known one in this order, as one row-value comparison the sort's index
    /// answers. None for the last sign-in, whose `NULLS LAST` no row value expresses: it pages
    /// by OFFSET.
    fn after(self) -> Option<&'static str> {
        match self {
            Self::Created => Some("(created_at, id) < (SELECT created_at, id FROM users WHERE id = {})"),
            Self::Email => Some("(email, id) > (SELECT email, id FROM users WHERE id = {})"),
            Self::LastSignIn => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserFilter {
    /// Matched against email, username, first and last name, and `clerk_id`.
    pub search: Option<String>,
    pub active: Option<bool>,
    pub staff: Option<bool>,
    pub deleted: Option<bool>,
    /// Joined (created here) at or after this time.
    pub joined_from: Option<DateTime<Utc>>,
    /// Joined before this time.
    pub joined_before: Option<DateTime<Utc>>,
    pub sort: UserSort,
}

/// One page of users matching `filter`: the page's rows and one `COUNT` of all matches. With
/// `after` (the previous page's last row, as the admin's Next link names it), the page is read
/// from there through the sort's index; a deep page then costs what the first one does.
pub async fn search(
    db: &Db,
    filter: &UserFilter,
    page: i64,
    after: Option<UserId>,
) -> Result<Page<UserListItem>, sqlx::Error> {
    let mut f = Filter::default();
    if let Some(text) = filter.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        search_text(db, &mut f, text);
    }
    if let Some(active) = filter.active {
        let p = f.param(Bind::Bool(active));
        f.and(format!("is_active = {p}"));
    }
    if let Some(staff) = filter.staff {
        let p = f.param(Bind::Bool(staff));
        f.and(format!("is_staff = {p}"));
    }
    if let Some(from) = filter.joined_from {
        let p = f.param(Bind::Time(from));
        f.and(format!("created_at >= {p}"));
    }
    if let Some(before) = filter.joined_before {
        let p = f.param(Bind::Time(before));
        f.and(format!("created_at < {p}"));
    }
    match filter.deleted {
        Some(true) => f.and("deleted_at IS NOT NULL".into()),
        Some(false) => f.and("deleted_at IS NULL".into()),
        None => {}
    }
    let listing = Listing { columns: LIST_COLUMNS, from: "users", order_by: filter.sort.order_by(), key: Some("id") };
    let seek = filter.sort.after().zip(after).map(|(condition, after)| Seek { condition, after: after.0 });
    fetch_page_seeking(db, &listing, &f, page, seek).await
}

/// A case-insensitive substring of `search_text` (email, username, names and `clerk_id`), through
/// the trigram index of each backend (migrations `0006_user_search.sql`).
fn search_text(db: &Db, f: &mut Filter, text: &str) {
    match db {
        // Postgres's LIKE escapes with `\` by default, and pg_trgm honours it.
        Db::Postgres(_) => {
            let p = f.param(Bind::Text(like_pattern(text)));
            f.and(format!("search_text LIKE {p}"));
        }
        Db::Sqlite(_) => {
            // SQLite's lower() folds ASCII only; fold the needle the same way.
            let needle = text.to_ascii_lowercase();
            let candidates = match fts_phrase(&needle) {
                // The needle's trigrams as one FTS5 phrase: the rows holding them in a row, read
                // from the index (a third of what `LIKE` costs FTS5 for the same needle).
                Some(phrase) => format!("users_search MATCH {}", f.param(Bind::Text(phrase))),
                // Under three characters there is no trigram: FTS5 answers `LIKE` by a scan.
                None => format!("search_text LIKE {}", f.param(Bind::Text(format!("%{needle}%")))),
            };
            // Rows changed since the index was last brought up to date are candidates too
            // (`db::search_index`). The index folds Unicode case, may still hold a row's old
            // text, and `%`/`_` in a LIKE match anything: `instr` keeps only the literal matches.
            let literal = f.param(Bind::Text(needle));
            f.and(format!(
                "(id IN (SELECT rowid FROM users_search WHERE {candidates}) \
                 OR id IN (SELECT id FROM users_search_pending)) AND instr(search_text, {literal}) > 0"
            ));
        }
    }
    f.narrows();
}

/// `text` as an FTS5 phrase (`"…"`, quotes doubled), when it is long enough to have a trigram.
fn fts_phrase(text: &str) -> Option<String> {
    (text.chars().count() >= 3).then(|| format!("\"{}\"", text.replace('"', "\"\"")))
}

#[cfg(test)]
mod tests {
    use super::fts_phrase;

    #[test]
    fn phrases_quote_and_skip_what_has_no_trigram() {
        assert_eq!(fts_phrase("ab"), None);
        assert_eq!(fts_phrase("é€"), None);
        assert_eq!(fts_phrase("user12"), Some("\"user12\"".into()));
        assert_eq!(fts_phrase("a\"b OR c"), Some("\"a\"\"b OR c\"".into()));
    }
}
