//! Seeds pending deliveries (and delivered ones for retention to purge) straight into the store,
//! while the server is stopped: a million rows through the API would take longer than the
//! measurement.

use sqlx::Connection;
use std::path::Path;

/// How many lanes (named `backlog0`…) the backlog spreads over; each lane's head is due.
const LANES: usize = 1000;

/// The lanes seeded deliveries go to, each lane's first one due and the rest waiting behind it.
pub enum Lanes {
    /// This many lanes of their own, named `<tag>0`, `<tag>1`…
    Named(usize),
    /// The channels of the store's first this many visitors: the lanes their events go to.
    OfVisitors(usize),
}

/// One event, and `n` deliveries of it to the endpoint `endpoint_id` in 1,000 lanes.
pub async fn backlog(data_dir: &Path, database_url: Option<&str>, endpoint_id: &str, n: usize) {
    pending(
        data_dir,
        database_url,
        endpoint_id,
        n,
        "backlog",
        Lanes::Named(LANES),
    )
    .await;
}

/// One event (`evt_<tag>`), and `n` deliveries of it to the endpoint `endpoint_id`, spread over
/// `lanes` in turn.
pub async fn pending(
    data_dir: &Path,
    database_url: Option<&str>,
    endpoint_id: &str,
    n: usize,
    tag: &str,
    lanes: Lanes,
) {
    let body = format!(
        "[{{\"event\":\"messageVisitor\",\"message\":\"{}\"}}]",
        "x".repeat(600)
    );
    let event = format!(
        "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body)
         VALUES ('evt_{tag}', 1, NULL, 'messageVisitor', 0, '{body}')"
    );
    let (count, lane, from) = match lanes {
        Lanes::Named(count) => (count, format!("'{tag}' || (i % {count})"), String::new()),
        Lanes::OfVisitors(count) => (
            count,
            "v.id".to_string(),
            format!(
                "JOIN (SELECT id, row_number() OVER (ORDER BY seq) - 1 AS k FROM visitors) v
                   ON v.k = i % {count}"
            ),
        ),
    };
    let deliveries = format!(
        "INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, next_attempt_at, created_at)
         SELECT 'msg_{tag}_' || i, (SELECT seq FROM endpoints WHERE id = '{endpoint_id}'),
                (SELECT seq FROM events WHERE id = 'evt_{tag}'), {lane},
                CASE WHEN i <= {count} THEN 'ready' ELSE 'waiting' END, 0, 0
         FROM {{series}} {from}"
    );
    match database_url {
        None => {
            let url = format!("sqlite://{}", data_dir.join("palaver.db").display());
            let mut c = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("open the SQLite store");
            let series = format!(
                "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s)"
            );
            for sql in [event, deliveries.replace("{series}", &series)] {
                sqlx::raw_sql(&sql).execute(&mut c).await.expect("seed");
            }
        }
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url)
                .await
                .expect("open the PostgreSQL store");
            let series = format!("generate_series(1, {n}) AS i");
            let analyze = "ANALYZE deliveries".to_string();
            for sql in [event, deliveries.replace("{series}", &series), analyze] {
                sqlx::raw_sql(&sql).execute(&mut c).await.expect("seed");
            }
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
