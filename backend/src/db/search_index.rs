//! SQLite's user search index (FTS5 trigrams, migrations `0006` and `0018`), brought up to date
//! from the rows the triggers noted in `users_search_pending`. Once per transaction rather than
//! once per row: FTS5 writes an index segment at every statement savepoint, so per-row updates
//! made a segment per user of a webhook batch. Postgres's trigram index needs none of this.

use sqlx::SqliteConnection;

use super::Db;

/// Old text out (FTS5 removes an entry given the text it indexed), current text in, notes gone.
/// One prepared statement list (sqlx runs each in turn), so an untouched index costs one round
/// trip per commit.
const INDEX_PENDING: &str = "\
    INSERT INTO users_search (users_search, rowid, search_text) \
        SELECT 'delete', id, indexed_text FROM users_search_pending WHERE indexed_text IS NOT NULL; \
    INSERT INTO users_search (rowid, search_text) \
        SELECT u.id, u.search_text FROM users_search_pending p JOIN users u ON u.id = p.id; \
    DELETE FROM users_search_pending";

/// Indexes the noted rows inside the caller's transaction (see `Tx::commit`).
pub(crate) async fn index_pending_in(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query(INDEX_PENDING).execute(conn).await.map(|_| ())
}

/// Indexes what writes outside a transaction noted (they autocommit through the pool); a
/// search already finds those rows meanwhile. Run every few seconds by the server.
pub async fn catch_up(db: &Db) -> Result<(), sqlx::Error> {
    let Db::Sqlite(sqlite) = db else { return Ok(()) };
    // Asked of a reader first: with nothing noted, an empty transaction would hold the one write
    // connection for nothing, and its commit (which writes nothing, so succeeds even on a full
    // disk) would tell readiness that writes work again.
    let noted: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users_search_pending)").fetch_one(&sqlite.readers).await?;
    if noted {
        // An otherwise empty transaction: its commit does the work.
        db.begin().await?.commit().await?;
    }
    Ok(())
}
