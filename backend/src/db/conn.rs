//! One connection or transaction over either backend, so repository writes can share a
//! transaction (a webhook's effect and its `webhook_events` row commit together).

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
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Db {
    /// Every transaction here writes. On SQLite it takes the write lock at `BEGIN IMMEDIATE`,
    /// where the busy timeout applies; a deferred transaction that upgrades to a writer late
    /// fails at once with "database is locked" when another writer got in first.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(&mut *tx),
            Tx::Postgres(tx) => Conn::Postgres(&mut *tx),
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}
