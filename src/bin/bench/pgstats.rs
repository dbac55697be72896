//! What PostgreSQL did for a scenario, per delivered event: transactions committed in the
//! scenario's database (`pg_stat_database`), WAL records, bytes, writes and syncs (`pg_stat_wal`,
//! the whole cluster's: anything else running on that server counts too) and, where the
//! `pg_stat_statements` view exists in the database, statements run.
//!
//! PostgreSQL publishes a backend's counts when it goes idle (at most once a second) and when it
//! exits: read the figures after the servers stopped, so that their connections' counts are in.

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, Row};

/// The counters at one moment.
#[derive(Clone, Copy, Default)]
pub struct Counters {
    commits: f64,
    wal_records: f64,
    wal_bytes: f64,
    wal_writes: f64,
    wal_syncs: f64,
    /// None where `pg_stat_statements` is not installed in the database.
    statements: Option<f64>,
}

/// The cost of one delivered event (PostgreSQL only; every field is `None` on SQLite, and
/// `statements` where `pg_stat_statements` is missing).
#[derive(Serialize, Deserialize, Default, Clone, Copy, Debug, PartialEq)]
pub struct PerEvent {
    pub transactions: Option<f64>,
    pub wal_records: Option<f64>,
    pub wal_bytes: Option<f64>,
    pub wal_writes: Option<f64>,
    pub wal_syncs: Option<f64>,
    pub statements: Option<f64>,
}

/// Reads the counters of the database at `url`; None without one (SQLite).
pub async fn read(url: Option<&str>) -> Option<Counters> {
    let mut c = PgConnection::connect(url?)
        .await
        .expect("connect to read PostgreSQL's statistics");
    let db = sqlx::query(
        "SELECT xact_commit::float8 FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut c)
    .await
    .expect("pg_stat_database");
    let wal = sqlx::query(
        "SELECT wal_records::float8, wal_bytes::float8, wal_write::float8, wal_sync::float8
         FROM pg_stat_wal",
    )
    .fetch_one(&mut c)
    .await
    .expect("pg_stat_wal");
    let has_statements: bool =
        sqlx::query_scalar("SELECT to_regclass('pg_stat_statements') IS NOT NULL")
            .fetch_one(&mut c)
            .await
            .expect("look for pg_stat_statements");
    let statements = match has_statements {
        false => None,
        true => Some(
            sqlx::query_scalar::<_, Option<f64>>(
                "SELECT sum(calls)::float8 FROM pg_stat_statements
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .fetch_one(&mut c)
            .await
            .expect("pg_stat_statements")
            .unwrap_or(0.0),
        ),
    };
    let _ = c.close().await;
    Some(Counters {
        commits: db.get(0),
        wal_records: wal.get(0),
        wal_bytes: wal.get(1),
        wal_writes: wal.get(2),
        wal_syncs: wal.get(3),
        statements,
    })
}

/// What happened between `before` and `after`, per one of `events`.
pub fn per_event(before: Option<Counters>, after: Option<Counters>, events: u64) -> PerEvent {
    let (Some(b), Some(a)) = (before, after) else {
        return PerEvent::default();
    };
    let each = |from: f64, to: f64| Some((to - from) / events.max(1) as f64);
    PerEvent {
        transactions: each(b.commits, a.commits),
        wal_records: each(b.wal_records, a.wal_records),
        wal_bytes: each(b.wal_bytes, a.wal_bytes),
        wal_writes: each(b.wal_writes, a.wal_writes),
        wal_syncs: each(b.wal_syncs, a.wal_syncs),
        statements: match (b.statements, a.statements) {
            (Some(from), Some(to)) => each(from, to),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{Counters, PerEvent, per_event};

    #[test]
    fn per_event_divides_the_differences() {
        let before = Counters {
            commits: 100.0,
            wal_records: 1000.0,
            wal_bytes: 50_000.0,
            wal_writes: 10.0,
            wal_syncs: 10.0,
            statements: None,
        };
        let after = Counters {
            commits: 300.0,
            wal_records: 3000.0,
            wal_bytes: 250_000.0,
            wal_writes: 60.0,
            wal_syncs: 50.0,
            statements: None,
        };
        let p = per_event(Some(before), Some(after), 100);
        assert_eq!(p.transactions, Some(2.0));
        assert_eq!(p.wal_records, Some(20.0));
        assert_eq!(p.wal_bytes, Some(2000.0));
        assert_eq!(p.wal_writes, Some(0.5));
        assert_eq!(p.wal_syncs, Some(0.4));
        assert_eq!(p.statements, None, "no pg_stat_statements: n/a");
        let with = |n| Counters {
            statements: Some(n),
            ..before
        };
        let p = per_event(Some(with(10.0)), Some(with(510.0)), 100);
        assert_eq!(p.statements, Some(5.0));
        assert_eq!(per_event(None, None, 100), PerEvent::default(), "SQLite");
    }
}
