//! Whether a file holds a sound Palaver database: SQLite, passing `PRAGMA integrity_check`,
//! with a migrations table whose every entry is one of this binary's migrations.

use anyhow::{Context, bail};
use rusqlite::{Connection, ErrorCode};
use std::path::Path;

/// Most problems `integrity_check` reports that an error message repeats.
const SHOWN_PROBLEMS: usize = 5;

/// Runs `PRAGMA integrity_check` on `conn`'s database: Ok when it answers `ok`, else the
/// problems it found.
pub fn integrity_check(conn: &Connection) -> anyhow::Result<()> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if rows == ["ok"] {
        return Ok(());
    }
    let shown: Vec<_> = rows.iter().take(SHOWN_PROBLEMS).cloned().collect();
    bail!(
        "the integrity check found {} problem(s): {}",
        rows.len(),
        shown.join("; ")
    )
}

/// Checks that `conn` (opened on `file`) is a database Palaver wrote and this binary can run
/// on: SQLite, with `_sqlx_migrations` listing only migrations of this version, all finished.
/// An older database is fine (the server migrates it at start); a newer one is not.
pub fn check_palaver_database(conn: &Connection, file: &Path) -> anyhow::Result<()> {
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => {
                anyhow::anyhow!("{} is not a SQLite database", file.display())
            }
            _ => anyhow::Error::new(e).context(format!("cannot read {}", file.display())),
        })?;
    if tables == 0 {
        bail!(
            "{} is not a Palaver database: it has no _sqlx_migrations table",
            file.display()
        );
    }
    let applied = conn
        .prepare("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")?
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()
        .with_context(|| format!("cannot read the migrations of {}", file.display()))?;
    if applied.is_empty() {
        bail!(
            "{} is not a Palaver database: no migration was ever applied to it",
            file.display()
        );
    }
    let known = sqlx::migrate!("./migrations/sqlite");
    for (version, success, checksum) in applied {
        let Some(ours) = known.iter().find(|m| m.version == version) else {
            bail!(
                "{} was written by a newer Palaver: its migration {version} is unknown to this \
                 one ({}); restore it with the version that made it",
                file.display(),
                env!("CARGO_PKG_VERSION")
            );
        };
        if *ours.checksum != *checksum {
            bail!(
                "{} is not a Palaver database: its migration {version} is not Palaver's",
                file.display()
            );
        }
        if !success {
            bail!(
                "{}: its migration {version} did not finish; it cannot be used",
                file.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database whose migrations table lists `rows` of (version, success, checksum).
    fn with_migrations(rows: &[(i64, bool, Vec<u8>)]) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT, \
             installed_on TIMESTAMP, success BOOLEAN, checksum BLOB, execution_time BIGINT)",
        )
        .unwrap();
        for (version, success, checksum) in rows {
            conn.execute(
                "INSERT INTO _sqlx_migrations VALUES (?1, 'm', 0, ?2, ?3, 0)",
                rusqlite::params![version, success, checksum],
            )
            .unwrap();
        }
        conn
    }

    fn ours(version: i64) -> Vec<u8> {
        let known = sqlx::migrate!("./migrations/sqlite");
        let m = known.iter().find(|m| m.version == version).unwrap();
        m.checksum.to_vec()
    }

    fn why(conn: &Connection) -> String {
        let err = check_palaver_database(conn, Path::new("x.db")).unwrap_err();
        format!("{err:#}")
    }

    #[test]
    fn an_older_palaver_database_is_taken() {
        let conn = with_migrations(&[(1, true, ours(1)), (2, true, ours(2))]);
        check_palaver_database(&conn, Path::new("x.db")).unwrap();
        integrity_check(&conn).unwrap();
    }

    #[test]
    fn foreign_newer_and_unfinished_migrations_are_refused() {
        let newer = with_migrations(&[(1, true, ours(1)), (99_999, true, vec![1])]);
        assert!(why(&newer).contains("newer Palaver"), "{}", why(&newer));
        let foreign = with_migrations(&[(1, true, vec![1, 2, 3])]);
        assert!(why(&foreign).contains("not Palaver's"), "{}", why(&foreign));
        let unfinished = with_migrations(&[(1, true, ours(1)), (2, false, ours(2))]);
        assert!(
            why(&unfinished).contains("did not finish"),
            "{}",
            why(&unfinished)
        );
        let empty = with_migrations(&[]);
        assert!(why(&empty).contains("no migration"), "{}", why(&empty));
        let none = Connection::open_in_memory().unwrap();
        assert!(
            why(&none).contains("no _sqlx_migrations table"),
            "{}",
            why(&none)
        );
    }
}
