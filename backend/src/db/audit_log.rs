//! The `audit_log` table: every admin change, with its actor and each field's before and after.

use ids::UserId;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::{
    Conn, Db,
    listing::{Filter, Listing, Page, fetch_page},
    now,
};
use crate::{on_conn, on_pool};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_user_id: Option<UserId>,
    /// The actor's email, when the actor still exists.
    pub actor_email: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// `{"field": {"before": …, "after": …}}`.
    pub changes: Json<Value>,
    pub created_at: DateTime<Utc>,
}

/// What one change did, recorded in the transaction that made it.
pub struct AuditRecord<'a> {
    pub actor_user_id: UserId,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub changes: &'a Value,
}

pub async fn record_in(conn: Conn<'_>, record: &AuditRecord<'_>) -> Result<(), sqlx::Error> {
    on_conn!(conn, c => sqlx::query(
        "INSERT INTO audit_log (actor_user_id, action, object_type, object_id, changes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(record.actor_user_id)
        .bind(record.action)
        .bind(record.object_type)
        .bind(record.object_id)
        .bind(Json(record.changes))
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

const SELECT_COLUMNS: &str =
    "a.id, a.actor_user_id, u.email AS actor_email, a.action, a.object_type, a.object_id, a.changes, a.created_at";
const FROM: &str = "audit_log a LEFT JOIN users u ON u.id = a.actor_user_id";

/// Newest first.
pub async fn list(db: &Db, page: i64) -> Result<Page<AuditEntry>, sqlx::Error> {
    let listing = Listing { columns: SELECT_COLUMNS, from: FROM, order_by: "a.created_at DESC, a.id DESC", key: None };
    fetch_page(db, &listing, &Filter::default(), page).await
}

/// The latest entries about one object, newest first.
pub async fn for_object(
    db: &Db,
    object_type: &str,
    object_id: &str,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let sql = format!(
        "SELECT {SELECT_COLUMNS} FROM {FROM} WHERE a.object_type = $1 AND a.object_id = $2 ORDER BY a.created_at DESC, a.id DESC LIMIT $3"
    );
    on_pool!(db, pool => sqlx::query_as(&sql).bind(object_type).bind(object_id).bind(limit).fetch_all(pool).await)
}

/// Every entry about the user, oldest first: edits of their account, and membership changes
/// that name them (`member`, by email). Entries they made as staff are about others, and stay
/// out of an export of their data.
pub async fn about_user(db: &Db, user_id: UserId, email: &str) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let member = match db {
        Db::Postgres(_) => "a.changes->>'member'",
        Db::Sqlite(_) => "json_extract(a.changes, '$.member')",
    };
    let sql = format!(
        "SELECT a.id, a.actor_user_id, u.email AS actor_email, a.action, a.object_type, a.object_id, a.changes, \
         a.created_at FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id \
         WHERE (a.object_type = 'user' AND a.object_id = $1) \
            OR ($2 <> '' AND a.action LIKE 'membership.%' AND {member} = $2) ORDER BY a.id"
    );
    on_pool!(db, pool => sqlx::query_as(&sql).bind(user_id.to_string()).bind(email).fetch_all(pool).await)
}
