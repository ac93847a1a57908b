//! Test support shared by every crate's integration tests.

pub mod database;

pub use database::{Backend, TestDb};

/// Generates one `#[tokio::test]` per backend from an `async fn(TestDb)`.
/// The Postgres variant is skipped, with a message, when `TEST_DATABASE_URL` is unset.
#[macro_export]
macro_rules! each_backend {
    // `backend: a, b`: each test gets the `Backend` and makes what it needs (a whole server).
    (backend: $($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::Backend::Sqlite).await; }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if std::env::var("TEST_DATABASE_URL").is_err() {
                        eprintln!("SKIPPED {} on postgres: TEST_DATABASE_URL is not set", stringify!($name));
                        return;
                    }
                    super::$name($crate::Backend::Postgres).await;
                }
            )+
        }
    };
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::TestDb::new($crate::Backend::Sqlite).await.expect("sqlite test database");
                    super::$name(db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::TestDb::postgres_or_skip(stringify!($name)).await else { return };
                    super::$name(db).await;
                }
            )+
        }
    };
}
