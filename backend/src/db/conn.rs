//! One connection or transaction over either backend, so repository writes can share a
//! transaction (a webhook's effect and its `webhook_events` row commit together).

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};

use super::Db;

/// A borrowed connection: inside a transaction or not.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// Runs the same body against whichever connection this is (see `on_pool!`).
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Postgres($c) => $body,
        }
    };
}

/// An open transaction; dropped without `commit`, it rolls back.
pub enum Tx {
    /// With the flag that readiness reads: whether the last commit failed.
    Sqlite(Transaction<'static, Sqlite>, Arc<AtomicBool>),
    Postgres(Transaction<'static, Postgres>),
}

impl Db {
    /// Every transaction here writes. On SQLite it runs on the one write connection and takes
    /// the write lock at `BEGIN IMMEDIATE`: a deferred transaction that upgrades to a writer late
    /// fails at once with "database is locked" when another process's writer got in first.
    /// Never begin one, or write through the pool, while holding another: on SQLite that waits
    /// for the write connection this one holds.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(sqlite) => {
                let tx = sqlite.writer.begin_with("BEGIN IMMEDIATE").await?;
                Tx::Sqlite(tx, Arc::clone(&sqlite.write_failing))
            }
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx, _) => Conn::Sqlite(&mut *tx),
            Tx::Postgres(tx) => Conn::Postgres(&mut *tx),
        }
    }

    /// Marks a point this transaction can roll back to (one at a time: group commit gives each
    /// webhook delivery its own).
    pub async fn savepoint(&mut self) -> Result<(), sqlx::Error> {
        self.execute("SAVEPOINT delivery").await
    }

    /// Undoes everything since [`Tx::savepoint`] and drops the savepoint; the transaction goes on.
    pub async fn rollback_to_savepoint(&mut self) -> Result<(), sqlx::Error> {
        self.execute("ROLLBACK TO SAVEPOINT delivery").await?;
        self.execute("RELEASE SAVEPOINT delivery").await
    }

    /// Keeps everything since [`Tx::savepoint`] and drops the savepoint.
    pub async fn release_savepoint(&mut self) -> Result<(), sqlx::Error> {
        self.execute("RELEASE SAVEPOINT delivery").await
    }

    async fn execute(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        crate::on_conn!(self.conn(), c => sqlx::query(sql).execute(&mut *c).await.map(|_| ()))
    }

    /// Commits. On SQLite a failed commit marks writes as failing (readiness reports it) until
    /// one succeeds; the pool replaces the connection if the failure left it in the transaction.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(mut tx, failing) => {
                // What this transaction changed in users reaches the search index with it.
                let result = match super::search_index::index_pending_in(&mut tx).await {
                    Ok(()) => tx.commit().await,
                    Err(err) => Err(err),
                };
                if let Err(err) = &result {
                    tracing::error!(error = %err, "an SQLite commit failed: writes answer 503 until one succeeds");
                }
                failing.store(result.is_err(), Ordering::Relaxed);
                result
            }
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}
