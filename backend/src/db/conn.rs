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
    /// Every transaction here writes. On SQLite it runs on the one write connection and takes
    /// the write lock at `BEGIN IMMEDIATE`: a deferred transaction that upgrades to a writer late
    /// fails at once with "database is locked" when another process's writer got in first.
    /// Never begin one, or write through the pool, while holding another: on SQLite that waits
    /// for the write connection this one holds.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(sqlite) => Tx::Sqlite(sqlite.writer.begin_with("BEGIN IMMEDIATE").await?),
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

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}
