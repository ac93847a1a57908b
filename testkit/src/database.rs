//! Isolated databases: a fresh SQLite file in a temp dir, or a fresh Postgres database created
//! from `TEST_DATABASE_URL` for each test.

use std::time::{SystemTime, UNIX_EPOCH};

use backend::{Db, config::DatabaseUrl};
use sqlx::{Connection, Executor, PgConnection};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A migrated, empty database that nothing else uses.
pub struct TestDb {
    pub db: Db,
    pub url: DatabaseUrl,
    pub backend: Backend,
    // Keeps the SQLite file alive for the test's duration.
    _dir: Option<tempfile::TempDir>,
}

const PREFIX: &str = "starter_t_";

impl TestDb {
    pub async fn new(backend: Backend) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().join("app.db");
                (DatabaseUrl::Sqlite(format!("sqlite://{}", path.display())), Some(dir))
            }
            Backend::Postgres => {
                let admin = std::env::var("TEST_DATABASE_URL").map_err(|_| "TEST_DATABASE_URL is not set")?;
                (DatabaseUrl::Postgres(create_pg_database(&admin).await?), None)
            }
        };
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        Ok(Self { db, url, backend, _dir: dir })
    }

    /// A Postgres database, or `None` (after saying so on stderr) when `TEST_DATABASE_URL` is unset.
    pub async fn postgres_or_skip(test: &str) -> Option<Self> {
        if std::env::var("TEST_DATABASE_URL").is_err() {
            eprintln!("SKIPPED {test} on postgres: TEST_DATABASE_URL is not set");
            return None;
        }
        Some(Self::new(Backend::Postgres).await.expect("postgres test database"))
    }
}

/// Creates `starter_t_<unix time>_<random>` and returns its URL. Databases left by earlier runs
/// (older than an hour) are dropped first, so crashed tests don't accumulate them.
async fn create_pg_database(admin_url: &str) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let mut conn = PgConnection::connect(admin_url).await?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();

    let existing: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
        .bind(format!("{PREFIX}%"))
        .fetch_all(&mut conn)
        .await?;
    for name in existing {
        let created =
            name.strip_prefix(PREFIX).and_then(|rest| rest.split('_').next()).and_then(|t| t.parse::<u64>().ok());
        if created.is_some_and(|t| t + 3600 < now) {
            let _ = conn.execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str()).await;
        }
    }

    let name = format!("{PREFIX}{now}_{}", uuid::Uuid::new_v4().simple());
    conn.execute(format!("CREATE DATABASE \"{name}\"").as_str()).await?;
    conn.close().await?;

    let mut url = admin_url.to_owned();
    let base_end = url.rfind('/').filter(|&i| i > "postgres://".len()).unwrap_or(url.len());
    let query = url.find('?').map(|i| url[i..].to_owned()).unwrap_or_default();
    url.truncate(base_end);
    Ok(format!("{url}/{name}{query}"))
}
