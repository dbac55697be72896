//! The deliveries' backlog for `/metrics`, read at scrape time in one statement: each
//! endpoint's pending deliveries (through the partial index of pending rows: the work grows with
//! the backlog, not with the history), its oldest pending one, its failed ones (through the
//! partial index of failed rows, which `--retention` keeps small), and how late the most overdue
//! delivery is (the head of the due index).

use super::*;

/// The backlog of every endpoint, and the most overdue delivery.
#[derive(Clone, Debug, Default)]
pub struct Backlog {
    pub endpoints: Vec<EndpointBacklog>,
    /// When the most overdue delivery of an enabled endpoint was due, if one is due at the
    /// reading's time (claimed ones are not: their lease pushed their time back).
    pub oldest_due_at: Option<Millis>,
}

#[derive(Clone, Debug)]
pub struct EndpointBacklog {
    pub seq: i64,
    pub id: String,
    pub kind: EndpointKind,
    pub enabled: bool,
    pub pending: i64,
    /// Its failed deliveries (not yet purged).
    pub failed: i64,
    /// When the event of its oldest pending delivery happened.
    pub oldest_pending_at: Option<Millis>,
}

/// One statement. `{pending}`, `{failed}` and `{due}` are the deliveries table with an index
/// hint on SQLite, `{enabled:X}` endpoint X's enabled flag as 0 or 1; `$1` is now.
const BACKLOG: &str = "WITH p AS (
         SELECT endpoint_seq, COUNT(*) AS n, MIN(seq) AS first FROM {pending}
         WHERE state IN ('ready', 'waiting') GROUP BY endpoint_seq)
     SELECT e.seq, e.id, e.kind, {enabled:e}, COALESCE(p.n, 0),
            (SELECT created_at FROM deliveries WHERE seq = p.first),
            (SELECT COUNT(*) FROM {failed} WHERE f.state = 'failed' AND f.endpoint_seq = e.seq),
            (SELECT d.next_attempt_at FROM {due} JOIN endpoints due_e ON due_e.seq = d.endpoint_seq
             WHERE d.state = 'ready' AND d.next_attempt_at <= $1 AND {enabled:due_e} = 1
             ORDER BY d.next_attempt_at LIMIT 1)
     FROM endpoints e LEFT JOIN p ON p.endpoint_seq = e.seq
     ORDER BY e.seq";

type Row = (i64, String, String, i64, i64, Option<i64>, i64, Option<i64>);

/// The statement for a backend.
fn statement(pending: &str, failed: &str, due: &str, enabled: &str) -> String {
    BACKLOG
        .replace("{pending}", pending)
        .replace("{failed}", failed)
        .replace("{due}", due)
        .replace("{enabled:e}", &enabled.replace("{t}", "e"))
        .replace("{enabled:due_e}", &enabled.replace("{t}", "due_e"))
}

fn backlog(rows: Vec<Row>) -> Backlog {
    let oldest_due_at = rows.first().and_then(|r| r.7).map(Millis);
    let endpoints = rows
        .into_iter()
        .map(
            |(seq, id, kind, enabled, pending, oldest, failed, _)| EndpointBacklog {
                seq,
                id,
                kind: EndpointKind::parse(&kind).unwrap_or_default(),
                enabled: enabled != 0,
                pending,
                failed,
                oldest_pending_at: oldest.map(Millis),
            },
        )
        .collect();
    Backlog {
        endpoints,
        oldest_due_at,
    }
}

pub mod on_sqlite {
    use super::*;

    pub async fn backlog(pool: &sqlx::SqlitePool, now: Millis) -> Result<Backlog> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            statement(
                &format!("deliveries INDEXED BY {}", super::lanes::INDEX),
                "deliveries f INDEXED BY deliveries_failed",
                "deliveries d INDEXED BY deliveries_due",
                "{t}.enabled",
            )
        });
        let rows: Vec<Row> = sqlx::query_as(&SQL).bind(now.0).fetch_all(pool).await?;
        Ok(super::backlog(rows))
    }
}

pub mod on_postgres {
    use super::*;

    /// In a read-only transaction without JIT: the planner cannot know how few endpoints there
    /// are (the table is too small to be analyzed), and compiling the plan would cost far more
    /// than running it.
    pub async fn backlog(pool: &sqlx::PgPool, now: Millis) -> Result<Backlog> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            statement(
                "deliveries",
                "deliveries f",
                "deliveries d",
                "(CASE WHEN {t}.enabled THEN 1 ELSE 0 END)::bigint",
            )
        });
        let mut tx = pool
            .begin_with("BEGIN READ ONLY; SET LOCAL jit = off")
            .await?;
        let rows: Vec<Row> = sqlx::query_as(&SQL).bind(now.0).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(super::backlog(rows))
    }
}
