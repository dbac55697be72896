//! Applying a chat [`Commit`] in one PostgreSQL transaction, with the lane lock that keeps
//! fan-out and promotion of one lane from racing between processes.

use super::super::{Commit, Committed, ConflictKind, Result, Step, StoreError};
use sqlx::PgConnection;

fn unique_as(kind: ConflictKind) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match e.as_database_error() {
        Some(d) if d.is_unique_violation() => StoreError::Conflict(kind),
        _ => StoreError::Db(e),
    }
}

/// The advisory lock key of the lanes named `lane`: the first 8 bytes of its SHA-256.
pub fn lane_key(lane: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(lane.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Serializes, until the transaction ends, every change to the lanes named `lane`.
pub async fn lock_lane(conn: &mut PgConnection, lane: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lane_key(lane))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `BEGIN` followed by the locks of `lanes`, in key order (so that two transactions cannot
/// deadlock): one round trip. The keys are numbers, so they can be written into the text.
pub fn begin_locking<'a>(lanes: impl IntoIterator<Item = &'a str>) -> String {
    begin_with_locks(String::from("BEGIN"), lanes)
}

/// `BEGIN` for writes nobody is answered about (claims, recorded outcomes): committed without
/// waiting for the WAL flush (`synchronous_commit = off`, this transaction only). A crash may
/// lose them, which only means a delivery is sent again; any later durable commit flushes them.
/// Takes the locks of `lanes` as [`begin_locking`] does.
pub fn begin_lazy<'a>(lanes: impl IntoIterator<Item = &'a str>) -> String {
    begin_with_locks(
        String::from("BEGIN; SET LOCAL synchronous_commit = off"),
        lanes,
    )
}

fn begin_with_locks<'a>(mut sql: String, lanes: impl IntoIterator<Item = &'a str>) -> String {
    let mut keys: Vec<i64> = lanes.into_iter().map(lane_key).collect();
    keys.sort_unstable();
    keys.dedup();
    for k in keys {
        sql.push_str(&format!("; SELECT pg_advisory_xact_lock({k})"));
    }
    sql
}

/// Commits `tx`, which `jobs` writes shared, and waits for its flush; counted in `/metrics`.
pub async fn commit_durable(tx: sqlx::Transaction<'_, sqlx::Postgres>, jobs: usize) -> Result<()> {
    let started = std::time::Instant::now();
    tx.commit().await?;
    crate::metrics::commit_group(jobs);
    crate::metrics::flushed(started.elapsed());
    Ok(())
}

/// The lanes a commit fans events out to: locked when its transaction begins.
pub fn lanes(c: &Commit) -> impl Iterator<Item = &str> {
    c.steps.iter().filter_map(|s| match s {
        Step::InsertEvent { lane, .. } => Some(lane.as_str()),
        _ => None,
    })
}

/// Applies one step that runs as a statement of its own (see [`super::batch`]): new visitors
/// and conversations, status and identity changes, and a message whose conversation is unknown
/// (which fails). The others are applied in batches; handing one here is a bug.
pub async fn apply_step(
    conn: &mut PgConnection,
    team: i64,
    step: &Step,
    done: &mut Committed,
) -> Result<()> {
    match step {
        Step::InsertVisitor {
            id,
            name,
            channel_name,
            identity,
            token_hash,
            at,
        } => {
            let identity = serde_json::to_string(identity).expect("identity serializes");
            let seq = sqlx::query_scalar(
                "WITH v AS (
                     INSERT INTO visitors (id, team_seq, name, channel_name, identity, token_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq)
                 INSERT INTO visitor_versions (seq, version) SELECT seq, 1 FROM v RETURNING seq",
            )
            .bind(id).bind(team).bind(name).bind(channel_name).bind(identity).bind(token_hash).bind(at.0)
            .fetch_one(&mut *conn)
            .await
            .map_err(unique_as(ConflictKind::ChannelName))?;
            done.visitor_seq = Some(seq);
        }
        Step::UpdateIdentity { seq, identity } => {
            let identity = serde_json::to_string(identity).expect("identity serializes");
            sqlx::query("UPDATE visitors SET identity = $1 WHERE seq = $2")
                .bind(identity)
                .bind(*seq)
                .execute(&mut *conn)
                .await?;
        }
        Step::InsertConversation {
            id,
            visitor_seq,
            at,
        } => {
            let visitor = (*visitor_seq)
                .or(done.visitor_seq)
                .ok_or(StoreError::NotFound)?;
            let seq = sqlx::query_scalar(
                "INSERT INTO conversations (id, team_seq, visitor_seq, status, started_at)
                 VALUES ($1, $2, $3, 'waiting', $4) RETURNING seq",
            )
            .bind(id)
            .bind(team)
            .bind(visitor)
            .bind(at.0)
            .fetch_one(&mut *conn)
            .await
            .map_err(unique_as(ConflictKind::ActiveConversation))?;
            done.conversation_seq = Some(seq);
        }
        Step::UpdateConversation {
            seq,
            status,
            agent_id,
            agent,
            ended_at,
        } => {
            let seq = (*seq)
                .or(done.conversation_seq)
                .ok_or(StoreError::NotFound)?;
            sqlx::query("UPDATE conversations SET status = $1, agent_id = $2, agent = $3, ended_at = $4 WHERE seq = $5")
                .bind(status.as_str()).bind(agent_id.as_deref()).bind(agent.as_deref()).bind(ended_at.map(|t| t.0)).bind(seq)
                .execute(&mut *conn)
                .await
                .map_err(unique_as(ConflictKind::ActiveConversation))?;
            done.conversation_seq = Some(seq);
        }
        Step::InsertMessage {
            conversation_seq,
            message: m,
        } => {
            let conversation = (*conversation_seq)
                .or(done.conversation_seq)
                .ok_or(StoreError::NotFound)?;
            let seq = sqlx::query_scalar(
                "INSERT INTO messages (id, conversation_seq, agent_id, user_name, user_picture, text, created_at, origin)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
            )
            .bind(&m.id).bind(conversation).bind(m.agent_id.as_deref()).bind(&m.user_name).bind(&m.user_picture)
            .bind(&m.text).bind(m.created_at.0).bind(&m.origin)
            .fetch_one(&mut *conn)
            .await?;
            done.conversation_seq = Some(conversation);
            done.message_seq = Some(seq);
        }
        Step::CheckVisitor { .. } | Step::InsertEvent { .. } | Step::SaveAnswer { .. } => {
            unreachable!("applied in batches (see store::postgres::batch)")
        }
    }
    Ok(())
}
