//! Which store the servers under test use, and the macros that run every test on each store.
//!
//! A test is `async fn name(store: TestStore)`; `on_every_store!(name, …)` in its module makes
//! `sqlite::name` (always) and `postgres::name` (a fresh database per test when
//! `PALAVER_TEST_DATABASE_URL` is set; otherwise it prints the skip notice and passes).
//! `on_postgres_only!(name, …)` makes only `postgres::name`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use palaver::store::testdb::{self, TempDatabase};

/// Which store the server under test uses: the one place that knows it.
#[derive(Clone)]
pub enum TestStore {
    /// The embedded SQLite store in each server's data dir.
    Sqlite,
    /// A throw-away PostgreSQL database, shared by every server (and `team create`) of the
    /// test. It is dropped with the last clone, i.e. after every [`TestApp`] holding it has
    /// stopped its process.
    ///
    /// [`TestApp`]: crate::helpers::TestApp
    Postgres(Arc<TempDatabase>),
}

impl fmt::Debug for TestStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestStore::Sqlite => f.write_str("Sqlite"),
            TestStore::Postgres(db) => write!(f, "Postgres({})", db.url),
        }
    }
}

impl TestStore {
    /// The command-line arguments selecting this store, besides `--data-dir`.
    pub fn args(&self) -> Vec<String> {
        match self {
            TestStore::Sqlite => Vec::new(),
            TestStore::Postgres(db) => vec!["--database-url".to_owned(), db.url.clone()],
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestStore::Postgres(_))
    }
}

/// Runs `test` on the embedded store.
pub async fn run_on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(TestStore) -> Fut,
    Fut: Future<Output = ()>,
{
    test(TestStore::Sqlite).await
}

/// Runs `test` on a fresh PostgreSQL database, or prints the skip notice when none is set.
pub async fn run_on_postgres<F, Fut>(test: F)
where
    F: FnOnce(TestStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(server) = testdb::server_url() else {
        return;
    };
    let db = TempDatabase::create(&server)
        .await
        .unwrap_or_else(|e| panic!("create a test database on {}: {e}", testdb::ENV));
    test(TestStore::Postgres(Arc::new(db))).await
}

/// `sqlite::$name` and `postgres::$name` for each `async fn $name(store: TestStore)`.
macro_rules! on_every_store {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::stores::run_on_sqlite(super::$name).await
                }
            )+
        }
        $crate::stores::on_postgres_only!($($name),+);
    };
}

/// Only `postgres::$name` for each `async fn $name(store: TestStore)`.
macro_rules! on_postgres_only {
    ($($name:ident),+ $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::stores::run_on_postgres(super::$name).await
                }
            )+
        }
    };
}

pub(crate) use {on_every_store, on_postgres_only};
