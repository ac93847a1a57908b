//! Paged listings for the admin: a page of rows with the total, and WHERE clauses built from
//! optional filters whose parameters are bound in order on either backend.

/// Rows per admin page.
pub const PAGE_SIZE: i64 = 50;

/// One page of a listing, with the total matching rows (one `COUNT`).
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// A 1-based page number, clamped to something a query can use.
pub fn offset_of(page: i64) -> (i64, i64) {
    let page = page.clamp(1, 1_000_000);
    (page, (page - 1) * PAGE_SIZE)
}

#[derive(Clone, Debug)]
pub(crate) enum Bind {
    Text(String),
    Bool(bool),
    Int(i64),
    Time(chrono::DateTime<chrono::Utc>),
}

/// `WHERE a AND b …`, with `$n` placeholders numbered as they are added.
#[derive(Clone, Default)]
pub(crate) struct Filter {
    clauses: Vec<String>,
    pub binds: Vec<Bind>,
    /// A text search: few rows match, and finding them is the costly part (see [`fetch_page`]).
    narrow: bool,
}

impl Filter {
    /// Adds a parameter and returns its placeholder.
    pub fn param(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    pub fn and(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// Marks the filter as a text search, whose matches are found once and then paged.
    pub fn narrows(&mut self) {
        self.narrow = true;
    }

    pub fn sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!(" WHERE {}", self.clauses.join(" AND ")) }
    }

    /// Adds a case-insensitive substring match of `text` against any of `columns`.
    pub fn search(&mut self, text: &str, columns: &[&str]) {
        let pattern = self.param(Bind::Text(like_pattern(text)));
        let any: Vec<String> =
            columns.iter().map(|c| format!("lower(COALESCE({c}, '')) LIKE {pattern} ESCAPE '\\'")).collect();
        self.and(format!("({})", any.join(" OR ")));
        self.narrows();
    }
}

/// `%text%`, lower-cased, with LIKE's wildcards escaped so they match literally.
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Binds every parameter of a filter, in order, to a sqlx query of either backend.
#[macro_export]
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for b in $binds {
            q = match b {
                $crate::db::listing::Bind::Text(s) => q.bind(s.clone()),
                $crate::db::listing::Bind::Bool(v) => q.bind(*v),
                $crate::db::listing::Bind::Int(v) => q.bind(*v),
                $crate::db::listing::Bind::Time(v) => q.bind(*v),
            };
        }
        q
    }};
}

/// What to list: `SELECT {columns} FROM {from}`, in `order_by` order. With `key` (a unique
/// column), the page's keys are found first and only those rows are read in full, so a deep
/// page skips its offset through the index alone.
pub(crate) struct Listing<'a> {
    pub columns: &'a str,
    pub from: &'a str,
    pub order_by: &'a str,
    pub key: Option<&'a str>,
}

/// Keyset paging: the rows that follow a known row in the listing's order, found through the
/// sort's index instead of an OFFSET walk past every earlier row.
pub(crate) struct Seek<'a> {
    /// The condition on the sort key, with `{}` where the known row's key goes.
    pub condition: &'a str,
    pub after: i64,
}

/// [`fetch_page_seeking`] without a known row: the page by OFFSET.
pub(crate) async fn fetch_page<T>(
    db: &super::Db,
    listing: &Listing<'_>,
    filter: &Filter,
    page: i64,
) -> Result<Page<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    T: Send + Unpin,
{
    fetch_page_seeking(db, listing, filter, page, None).await
}

/// One page of `listing` under `filter`, with the total from one `COUNT` of the same filter. The
/// count rides along as a scalar subquery (evaluated once), so a page costs one round trip; only
/// a page past the end, which has no row to carry it, asks for the count on its own.
///
/// A text search finds its matches once (a materialized CTE) and counts, sorts and pages those.
/// Without it the search ran twice, and Postgres's generic plan for a prepared statement (used
/// after five runs) guessed the pattern matched few rows wherever they were, walked the sort
/// index and filtered: 8,700 rows read for a page of `q=User12`.
///
/// With `seek` (and no text search), the page starts after the known row; `page` then only
/// numbers it. A known row that is gone (deleted meanwhile), or nothing after it, falls back to
/// the page by OFFSET.
pub(crate) async fn fetch_page_seeking<T>(
    db: &super::Db,
    listing: &Listing<'_>,
    filter: &Filter,
    page: i64,
    seek: Option<Seek<'_>>,
) -> Result<Page<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    T: Send + Unpin,
{
    use sqlx::Row;

    let (page, offset) = offset_of(page);
    let Listing { columns, from, order_by, key } = listing;
    let where_sql = filter.sql();
    let count_sql = format!("SELECT COUNT(*) FROM {from}{where_sql}");
    let columns = format!("{columns}, ({count_sql}) AS listing_total");
    let seek = seek.filter(|_| !filter.narrow && key.is_some());
    // The page's own filter: the listing's, and with a known row, what follows it.
    let mut paged = filter.clone();
    if let Some(seek) = &seek {
        let known = paged.param(Bind::Int(seek.after));
        paged.and(seek.condition.replace("{}", &known));
    }
    let page_where = paged.sql();
    let mut page_binds = paged.binds;
    let (limit, offset_param) = (page_binds.len() + 1, page_binds.len() + 2);
    let page_sql = match key {
        Some(_) if filter.narrow => format!(
            "WITH hits AS MATERIALIZED (SELECT {} FROM {from}{where_sql}) \
             SELECT *, (SELECT COUNT(*) FROM hits) AS listing_total FROM hits \
             ORDER BY {order_by} LIMIT ${limit} OFFSET ${offset_param}",
            listing.columns
        ),
        Some(key) => format!(
            "SELECT {columns} FROM {from} WHERE {key} IN (SELECT {key} FROM {from}{page_where} \
             ORDER BY {order_by} LIMIT ${limit} OFFSET ${offset_param}) ORDER BY {order_by}"
        ),
        None => {
            format!("SELECT {columns} FROM {from}{where_sql} ORDER BY {order_by} LIMIT ${limit} OFFSET ${offset_param}")
        }
    };
    let seeking = seek.is_some();
    page_binds.extend([Bind::Int(PAGE_SIZE), Bind::Int(if seeking { 0 } else { offset })]);
    let (total, items) = crate::on_pool!(db, pool => {
        let rows = crate::bind_all!(sqlx::query(&page_sql), &page_binds).fetch_all(pool).await?;
        let total: Option<i64> = match rows.first() {
            Some(row) => Some(row.try_get("listing_total")?),
            None if seeking => None,
            None if offset == 0 => Some(0),
            None => Some(crate::bind_all!(sqlx::query_scalar(&count_sql), &filter.binds).fetch_one(pool).await?),
        };
        let items = rows.iter().map(T::from_row).collect::<Result<Vec<T>, _>>()?;
        (total, items)
    });
    match total {
        Some(total) => Ok(Page { items, total, page, per_page: PAGE_SIZE }),
        None => Box::pin(fetch_page_seeking(db, listing, filter, page, None)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_lowercase() {
        assert_eq!(like_pattern(" Ada "), "%ada%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn pages_round_up_and_never_drop_below_one() {
        let page = |total| Page::<()> { items: vec![], total, page: 1, per_page: 50 }.pages();
        assert_eq!((page(0), page(1), page(50), page(51), page(10_000)), (1, 1, 1, 2, 200));
        assert_eq!(offset_of(0), (1, 0));
        assert_eq!(offset_of(3), (3, 100));
    }
}
