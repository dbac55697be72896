//! Lanes in O(1) ([`crate::store::lanes`]): beside a long lane of one endpoint, another endpoint's
//! lane check and promotion read one entry of the lane index, as the plans show, and work.

use super::*;
use crate::store::lanes::{self, on_postgres, on_sqlite};
use serde_json::Value;
use sqlx::Connection;

on_every_store!(
    lane_checks_read_one_entry_of_the_lane_index,
    a_long_lane_of_one_endpoint_does_not_hold_back_another,
);

/// Pending deliveries of the slow endpoint in the shared lane, behind its head.
const LONG: usize = 2000;

/// Events on `lane`, each with the body `[i]`, in one commit.
async fn events(f: &Fixture, lane: &str, name: EventName, bodies: std::ops::Range<usize>) {
    let steps = bodies
        .map(|i| Step::InsertEvent {
            id: crate::domain::new_id("evt_"),
            conversation_seq: None,
            name: name.as_str(),
            bit: name.bit(),
            lane: lane.into(),
            body: format!("[{i}]"),
            transcript: None,
            at: Millis(1000),
        })
        .collect();
    let c = Commit {
        team_seq: f.team,
        steps,
    };
    f.store.commit(c).await.unwrap();
}

/// A slow endpoint `b` with [`LONG`] deliveries in each of lanes `v1` and `v2` (its head and
/// the rest waiting), and `a` with one delivery in `v1`. Answers their seqs.
async fn long_lane_beside(f: &Fixture) -> (i64, i64) {
    let a = f.endpoint("a", EventName::End.bit()).await;
    let b = f.endpoint("b", ALL).await;
    events(f, "v1", EventName::Start, 0..LONG).await;
    events(f, "v2", EventName::Start, 0..LONG).await;
    f.event("v1", EventName::End, "[a]").await;
    (a.seq, b.seq)
}

async fn lane_checks_read_one_entry_of_the_lane_index(f: Fixture) {
    let (a, _) = long_lane_beside(&f).await;
    let lane_conds = ["endpoint_seq", "lane"];
    match &f.place {
        Place::Sqlite(_) => {
            let url = format!("sqlite://{}", f.place.url());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
            for sql in [on_sqlite::HEAD, on_sqlite::HOLD_NEWER_HEAD, sqlite::TARGETS] {
                let rows: Vec<(i64, i64, i64, String)> =
                    sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                        .fetch_all(&mut c)
                        .await
                        .unwrap();
                let lines: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
                let on_deliveries: Vec<&&str> =
                    lines.iter().filter(|l| l.contains("deliveries")).collect();
                let want = format!("{} (endpoint_seq=? AND lane=?", lanes::INDEX);
                // One entry read: by both columns, in the index's order (no sort of the lane).
                assert!(
                    !on_deliveries.is_empty()
                        && on_deliveries.iter().all(|l| l.contains(&want))
                        && !lines.iter().any(|l| l.contains("TEMP B-TREE")),
                    "{sql}\n{lines:#?}"
                );
            }
        }
        Place::Postgres(db) => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
            let statements = [
                (on_postgres::HEAD, format!("{a}, 'v1'")),
                (on_postgres::PROMOTE, format!("{a}, 'v1', 5000")),
                (on_postgres::HOLD_NEWER_HEAD, format!("{a}, 'v1', 0, 0")),
            ];
            // Custom plans (the values known) and the generic plan a prepared statement may use.
            for mode in ["force_custom_plan", "force_generic_plan"] {
                for (sql, args) in &statements {
                    let scans = postgres_scans(&mut c, mode, sql, args).await;
                    let lane: Vec<&Scan> =
                        scans.iter().filter(|s| s.index == lanes::INDEX).collect();
                    assert!(!lane.is_empty(), "{mode}: {sql}\n{scans:#?}");
                    for s in &scans {
                        let ok = if s.index == lanes::INDEX {
                            s.node.starts_with("Index")
                                && lane_conds
                                    .iter()
                                    .all(|col| s.cond.contains(&format!("({col} = ")))
                        } else {
                            // The row to update, found by the head's seq.
                            s.index == "deliveries_pkey"
                        };
                        assert!(ok, "{mode}: {sql}\n{scans:#?}");
                    }
                }
            }
        }
    }
}

/// A scan of `deliveries` in a PostgreSQL plan.
#[derive(Debug)]
struct Scan {
    node: String,
    index: String,
    cond: String,
}

/// The scans of `deliveries` in the plan of `sql` run with `args`, under `plan_cache_mode`.
async fn postgres_scans(
    c: &mut sqlx::PgConnection,
    mode: &str,
    sql: &str,
    args: &str,
) -> Vec<Scan> {
    sqlx::query(&format!("SET plan_cache_mode = {mode}"))
        .execute(&mut *c)
        .await
        .unwrap();
    sqlx::query(&format!("PREPARE lane_q AS {sql}"))
        .execute(&mut *c)
        .await
        .unwrap();
    // The plan comes as `json`, which is text on the wire.
    let row = sqlx::query(&format!("EXPLAIN (FORMAT JSON) EXECUTE lane_q({args})"))
        .fetch_one(&mut *c)
        .await
        .unwrap();
    let json: String = sqlx::Row::try_get_unchecked(&row, 0).unwrap();
    sqlx::query("DEALLOCATE lane_q")
        .execute(&mut *c)
        .await
        .unwrap();
    let plan: Value = serde_json::from_str(&json).unwrap();
    let mut scans = Vec::new();
    collect_scans(&plan[0]["Plan"], &mut scans);
    scans
}

fn collect_scans(node: &Value, out: &mut Vec<Scan>) {
    let text = |k: &str| node[k].as_str().unwrap_or_default().to_string();
    if text("Relation Name") == "deliveries" && text("Node Type") != "ModifyTable" {
        out.push(Scan {
            node: text("Node Type"),
            index: text("Index Name"),
            cond: text("Index Cond"),
        });
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        collect_scans(child, out);
    }
}

/// Claims at `now` and answers (endpoint, body) of each claimed delivery, sorted.
async fn claimed(f: &Fixture, now: i64) -> (Vec<Claimed>, Vec<(i64, String)>) {
    let claimed = f.claim_at(now).await;
    let mut got: Vec<(i64, String)> = claimed
        .iter()
        .map(|c| (c.endpoint_seq, c.body.clone()))
        .collect();
    got.sort();
    (claimed, got)
}

async fn a_long_lane_of_one_endpoint_does_not_hold_back_another(f: Fixture) {
    let (a, b) = long_lane_beside(&f).await;
    // `a`'s first delivery in v1 is its lane's head although `b` has LONG pending there; its
    // second waits behind it.
    f.event("v1", EventName::End, "[a2]").await;
    let (first, got) = claimed(&f, 2000).await;
    let want = |x: &[(i64, &str)]| -> Vec<(i64, String)> {
        x.iter().map(|(e, s)| (*e, s.to_string())).collect()
    };
    assert_eq!(got, want(&[(a, "[a]"), (b, "[0]"), (b, "[0]")]));
    // `a` settles: its next is promoted at once, and only it (`b`'s heads are in flight).
    let of_a = first.iter().find(|c| c.endpoint_seq == a).unwrap();
    f.store
        .finish(vec![outcome(of_a, NextStep::Delivered)], Millis(2100))
        .await
        .unwrap();
    let (second, got) = claimed(&f, 2200).await;
    assert_eq!(got, want(&[(a, "[a2]")]));
    // `b`'s lanes go on in order; an event for `a` now finds its lane free again.
    let outcomes: Vec<Outcome> = first
        .iter()
        .chain(&second)
        .map(|c| outcome(c, NextStep::Delivered))
        .collect();
    f.store.finish(outcomes, Millis(2300)).await.unwrap();
    f.event("v1", EventName::End, "[a3]").await;
    let (_, got) = claimed(&f, 2400).await;
    assert_eq!(got, want(&[(a, "[a3]"), (b, "[1]"), (b, "[1]")]));
}
