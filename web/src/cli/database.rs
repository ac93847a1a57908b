//! Opening and closing the database around a maintenance command.

use anyhow::Context;
use backend::{Config, Db, invalidation::Invalidation, invalidation_bus};

/// Connects and applies pending migrations, so every command runs on the current schema.
pub async fn open(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url).await.context("connecting to the database")?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

/// Ends a command that wrote mirrored rows: running servers on Postgres drop what they cached of
/// them (on SQLite their TTLs bound it), then the pool closes.
pub async fn close_after_writes(db: Db) {
    invalidation_bus::publish(&db, &[Invalidation::All]).await;
    db.close().await;
}
