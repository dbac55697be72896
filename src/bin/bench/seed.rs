//! Seeds a backlog of pending deliveries for a dead endpoint straight into the store, while the
//! server is stopped: a million rows through the API would take longer than the measurement.

use sqlx::Connection;
use std::path::Path;

/// How many lanes (visitor channels) the backlog spreads over; each lane's head is due.
const LANES: usize = 1000;

/// One event, and `n` deliveries of it to the endpoint `endpoint_id`.
pub async fn backlog(data_dir: &Path, database_url: Option<&str>, endpoint_id: &str, n: usize) {
    let body = format!(
        "[{{\"event\":\"messageVisitor\",\"message\":\"{}\"}}]",
        "x".repeat(600)
    );
    match database_url {
        None => {
            let url = format!("sqlite://{}", data_dir.join("palaver.db").display());
            let mut c = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("open the SQLite store");
            let endpoint: i64 = sqlx::query_scalar("SELECT seq FROM endpoints WHERE id = ?")
                .bind(endpoint_id)
                .fetch_one(&mut c)
                .await
                .unwrap();
            let event: i64 = sqlx::query_scalar(
                "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body)
                 VALUES ('evt_backlog', 1, NULL, 'messageVisitor', 0, ?) RETURNING seq",
            )
            .bind(&body)
            .fetch_one(&mut c)
            .await
            .unwrap();
            sqlx::query(
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?1)
                 INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, next_attempt_at, created_at)
                 SELECT 'msg_backlog_' || i, ?2, ?3, 'backlog' || (i % ?4),
                        CASE WHEN i <= ?4 THEN 'ready' ELSE 'waiting' END, 0, 0 FROM s",
            )
            .bind(n as i64)
            .bind(endpoint)
            .bind(event)
            .bind(LANES as i64)
            .execute(&mut c)
            .await
            .unwrap();
        }
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url)
                .await
                .expect("open the PostgreSQL store");
            let endpoint: i64 = sqlx::query_scalar("SELECT seq FROM endpoints WHERE id = $1")
                .bind(endpoint_id)
                .fetch_one(&mut c)
                .await
                .unwrap();
            let event: i64 = sqlx::query_scalar(
                "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body)
                 VALUES ('evt_backlog', 1, NULL, 'messageVisitor', 0, $1) RETURNING seq",
            )
            .bind(&body)
            .fetch_one(&mut c)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, next_attempt_at, created_at)
                 SELECT 'msg_backlog_' || i, $2, $3, 'backlog' || (i % $4),
                        CASE WHEN i <= $4 THEN 'ready' ELSE 'waiting' END, 0, 0
                 FROM generate_series(1, $1) AS i",
            )
            .bind(n as i64)
            .bind(endpoint)
            .bind(event)
            .bind(LANES as i64)
            .execute(&mut c)
            .await
            .unwrap();
            sqlx::query("ANALYZE deliveries")
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

/// `n` deliveries to `endpoint_id` delivered long ago (at 0), each with its attempt, of one test
/// event: what `--retention` purges. Answers the event's seq.
pub async fn old_delivered(
    data_dir: &Path,
    database_url: Option<&str>,
    endpoint_id: &str,
    n: usize,
) -> i64 {
    let body = format!(
        "[{{\"event\":\"messageAgent\",\"message\":\"{}\"}}]",
        "y".repeat(600)
    );
    let (deliveries, attempts) = (
        "INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, attempts, tries, next_attempt_at, created_at)
         SELECT 'msg_old_' || i, {endpoint}, {event}, 'old' || (i % 1000), 'delivered', 1, 1, 0, 0 FROM {series}",
        "INSERT INTO attempts (delivery_seq, n, at, status_code, duration_ms, error, response_body)
         SELECT seq, 1, 0, 200, 5, NULL, 'ok' FROM deliveries WHERE event_seq = {event}",
    );
    let event_sql = "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body)
                     VALUES ('evt_old', 1, NULL, 'messageAgent', 0, $1) RETURNING seq";
    let endpoint_sql = "SELECT seq FROM endpoints WHERE id = $1";
    macro_rules! seed {
        ($c:expr, $series:expr) => {{
            let endpoint: i64 = sqlx::query_scalar(endpoint_sql)
                .bind(endpoint_id)
                .fetch_one(&mut $c)
                .await
                .unwrap();
            let event: i64 = sqlx::query_scalar(event_sql)
                .bind(&body)
                .fetch_one(&mut $c)
                .await
                .unwrap();
            for sql in [deliveries, attempts] {
                let sql = sql
                    .replace("{endpoint}", &endpoint.to_string())
                    .replace("{event}", &event.to_string())
                    .replace("{series}", $series);
                sqlx::query(&sql).execute(&mut $c).await.unwrap();
            }
            event
        }};
    }
    match database_url {
        None => {
            let url = format!("sqlite://{}", data_dir.join("palaver.db").display());
            let mut c = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("open the SQLite store");
            let series = format!(
                "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s)"
            );
            seed!(c, &series)
        }
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url)
                .await
                .expect("open the PostgreSQL store");
            let event = seed!(c, &format!("generate_series(1, {n}) AS i"));
            sqlx::raw_sql("ANALYZE deliveries; ANALYZE attempts")
                .execute(&mut c)
                .await
                .unwrap();
            event
        }
    }
}

/// Whether any delivery of event `event` is left.
pub async fn any_delivery_of(data_dir: &Path, database_url: Option<&str>, event: i64) -> bool {
    let sql = "SELECT EXISTS (SELECT 1 FROM deliveries WHERE event_seq = $1)";
    match database_url {
        None => {
            let url = format!("sqlite://{}", data_dir.join("palaver.db").display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_scalar(sql)
                .bind(event)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql)
                .bind(event)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
    }
}
