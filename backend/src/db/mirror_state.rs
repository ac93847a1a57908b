//! What the sync compares with Clerk: the stored version of mirrored rows, and which are live.

use std::collections::HashMap;

use crate::{
    db::{Db, placeholders},
    on_pool,
};

/// A mirrored table.
#[derive(Clone, Copy, Debug)]
pub enum Mirrored {
    Users,
    Organizations,
}

impl Mirrored {
    fn table(self) -> &'static str {
        self.noun()
    }

    /// What these rows are, in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Organizations => "organizations",
        }
    }
}

/// `(clerk_updated_at, deleted)` for each of these Clerk ids that we store.
pub async fn stored_versions(
    db: &Db,
    what: Mirrored,
    ids: &[String],
) -> Result<HashMap<String, (Option<i64>, bool)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT clerk_id, clerk_updated_at, deleted_at IS NOT NULL FROM {} WHERE clerk_id IN ({})",
        what.table(),
        placeholders(ids.len())
    );
    let rows: Vec<(String, Option<i64>, bool)> = on_pool!(db, pool => {
        let mut q = sqlx::query_as(&sql);
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(|(id, ts, deleted)| (id, (ts, deleted))).collect())
}

/// The Clerk ids of every live (not tombstoned) mirrored row.
pub async fn live_clerk_ids(db: &Db, what: Mirrored) -> Result<Vec<String>, sqlx::Error> {
    let sql = format!("SELECT clerk_id FROM {} WHERE clerk_id IS NOT NULL AND deleted_at IS NULL", what.table());
    on_pool!(db, pool => sqlx::query_scalar(&sql).fetch_all(pool).await)
}
