//! Throw-away PostgreSQL databases for tests: each test gets its own, dropped when it ends
//! (even by a panic). Tests find the server in `PALAVER_TEST_DATABASE_URL`.

use sqlx::{Connection, PgConnection};

/// The environment variable naming the PostgreSQL server tests may use.
pub const ENV: &str = "PALAVER_TEST_DATABASE_URL";

/// The server URL from [`ENV`], or `None` with a notice that PostgreSQL tests are skipped.
pub fn server_url() -> Option<String> {
    match std::env::var(ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!(
                "PostgreSQL tests SKIPPED: set {ENV}=postgres://user@host:port/db to run them"
            );
            None
        }
    }
}

/// A database created for one test.
pub struct TempDatabase {
    /// The URL of the new database.
    pub url: String,
    server: String,
    name: String,
}

impl TempDatabase {
    /// Creates a database with a random name on the server `server_url` points at.
    pub async fn create(server_url: &str) -> Result<Self, sqlx::Error> {
        let name = format!(
            "palaver_t_{}",
            crate::domain::ids::random_string(12).to_lowercase()
        );
        let mut admin = PgConnection::connect(server_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(TempDatabase {
            url: with_database(server_url, &name),
            server: server_url.to_string(),
            name,
        })
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop may run inside a runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = PgConnection::connect(&server).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_end..]
        .find('/')
        .map(|i| i + authority_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
