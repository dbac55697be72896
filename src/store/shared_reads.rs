//! The read queries both backends run the same way: written once, as `$n` placeholders (which
//! SQLite accepts too), and stamped out for each pool type. Backend-specific reads stay with
//! their backend.

use super::rows;
use super::*;

macro_rules! reads_on {
    ($pool:ty) => {
        use super::*;
        type Pool = $pool;

        pub async fn default_team(pool: &Pool) -> Result<Option<Team>> {
            let r = sqlx::query("SELECT * FROM teams WHERE is_default").fetch_optional(pool).await?;
            r.as_ref().map(rows::team).transpose()
        }

        pub async fn team_by(pool: &Pool, column: KeyColumn, key: &str) -> Result<Option<Team>> {
            let sql = match column {
                KeyColumn::ApiKeyHash => "SELECT * FROM teams WHERE api_key_hash = $1",
                KeyColumn::SiteKey => "SELECT * FROM teams WHERE site_key = $1",
            };
            let r = sqlx::query(sql).bind(key).fetch_optional(pool).await?;
            r.as_ref().map(rows::team).transpose()
        }

        pub async fn team(pool: &Pool, team_seq: i64) -> Result<Option<Team>> {
            let r = sqlx::query("SELECT * FROM teams WHERE seq = $1").bind(team_seq).fetch_optional(pool).await?;
            r.as_ref().map(rows::team).transpose()
        }

        pub async fn api_key_matches(pool: &Pool, team_seq: i64, hash: &str) -> Result<bool> {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE seq = $1 AND api_key_hash = $2")
                .bind(team_seq).bind(hash).fetch_one(pool).await?;
            Ok(n == 1)
        }

        pub async fn agent(pool: &Pool, team_seq: i64, id: &str) -> Result<Option<String>> {
            Ok(sqlx::query_scalar("SELECT profile FROM agents WHERE team_seq = $1 AND id = $2")
                .bind(team_seq).bind(id).fetch_optional(pool).await?)
        }

        pub async fn agents(pool: &Pool, team_seq: i64, after: Option<&str>, limit: u32) -> Result<Vec<(String, String)>> {
            Ok(sqlx::query_as("SELECT id, profile FROM agents WHERE team_seq = $1 AND id > $2 ORDER BY id LIMIT $3")
                .bind(team_seq).bind(after.unwrap_or("")).bind(limit as i64).fetch_all(pool).await?)
        }

        /// A webhook endpoint (not a Slack one: see [`EndpointKind`]).
        pub async fn endpoint(pool: &Pool, team_seq: i64, id: &str) -> Result<Option<Endpoint>> {
            let r = sqlx::query("SELECT * FROM endpoints WHERE team_seq = $1 AND id = $2 AND kind = 'webhook'")
                .bind(team_seq).bind(id).fetch_optional(pool).await?;
            r.as_ref().map(rows::endpoint).transpose()
        }

        /// The team's webhook endpoints, newest first.
        pub async fn endpoints(pool: &Pool, team_seq: i64, page: Page) -> Result<Vec<Endpoint>> {
            let rows = sqlx::query("SELECT * FROM endpoints WHERE team_seq = $1 AND kind = 'webhook' AND seq < $2 ORDER BY seq DESC LIMIT $3")
                .bind(team_seq).bind(page.before.unwrap_or(i64::MAX)).bind(page.limit as i64)
                .fetch_all(pool).await?;
            rows.iter().map(rows::endpoint).collect()
        }

        pub async fn visitor_by_token_hash(pool: &Pool, hash: &str) -> Result<Option<VisitorRecord>> {
            let r = sqlx::query("SELECT v.*, vv.version FROM visitors v JOIN visitor_versions vv ON vv.seq = v.seq WHERE v.token_hash = $1").bind(hash).fetch_optional(pool).await?;
            r.as_ref().map(rows::visitor).transpose()
        }

        pub async fn visitor(pool: &Pool, visitor_seq: i64) -> Result<Option<VisitorRecord>> {
            let r = sqlx::query("SELECT v.*, vv.version FROM visitors v JOIN visitor_versions vv ON vv.seq = v.seq WHERE v.seq = $1").bind(visitor_seq).fetch_optional(pool).await?;
            r.as_ref().map(rows::visitor).transpose()
        }

        pub async fn latest_conversation(pool: &Pool, visitor_seq: i64) -> Result<Option<(ConversationRecord, Vec<MessageRecord>)>> {
            let r = sqlx::query("SELECT * FROM conversations WHERE visitor_seq = $1 ORDER BY seq DESC LIMIT 1")
                .bind(visitor_seq).fetch_optional(pool).await?;
            let Some(r) = r else { return Ok(None) };
            let conversation = rows::conversation(&r)?;
            let messages = messages_after(pool, conversation.seq, 0).await?;
            Ok(Some((conversation, messages)))
        }

        pub async fn conversation(pool: &Pool, team_seq: i64, id: &str) -> Result<Option<ConversationRecord>> {
            let r = sqlx::query("SELECT * FROM conversations WHERE team_seq = $1 AND id = $2")
                .bind(team_seq).bind(id).fetch_optional(pool).await?;
            r.as_ref().map(rows::conversation).transpose()
        }

        pub async fn conversations(pool: &Pool, team_seq: i64, status: Option<&str>, page: Page) -> Result<Vec<ConversationSummary>> {
            let rows = sqlx::query(
                "SELECT c.*, v.id AS visitor_id, v.name AS visitor_name, v.channel_name,
                        (SELECT m.seq FROM messages m WHERE m.conversation_seq = c.seq ORDER BY m.seq DESC LIMIT 1) AS last_message_seq
                 FROM conversations c JOIN visitors v ON v.seq = c.visitor_seq
                 WHERE c.team_seq = $1 AND c.seq < $2 AND (CAST($3 AS TEXT) IS NULL OR c.status = $3)
                 ORDER BY c.seq DESC LIMIT $4",
            )
            .bind(team_seq).bind(page.before.unwrap_or(i64::MAX)).bind(status).bind(page.limit as i64)
            .fetch_all(pool).await?;
            let mut list: Vec<ConversationSummary> = rows.iter().map(rows::conversation_summary).collect::<Result<_>>()?;
            // Each conversation's newest message, for the lists' previews: one read for the page.
            let seqs: Vec<i64> = rows.iter().filter_map(|r| rows::Columns::opt_int(r, "last_message_seq")).collect();
            if !seqs.is_empty() {
                let mut q = sqlx::QueryBuilder::new("SELECT * FROM messages WHERE seq IN (");
                let mut sep = q.separated(", ");
                for seq in &seqs {
                    sep.push_bind(*seq);
                }
                sep.push_unseparated(")");
                let last = q.build().fetch_all(pool).await?;
                for m in last.iter().map(rows::message) {
                    if let Some(c) = list.iter_mut().find(|c| c.last_message_seq == Some(m.seq)) {
                        c.last_message = Some(m);
                    }
                }
            }
            Ok(list)
        }

        pub async fn messages_after(pool: &Pool, conversation_seq: i64, after_seq: i64) -> Result<Vec<MessageRecord>> {
            let rows = sqlx::query("SELECT * FROM messages WHERE conversation_seq = $1 AND seq > $2 ORDER BY seq")
                .bind(conversation_seq).bind(after_seq).fetch_all(pool).await?;
            Ok(rows.iter().map(rows::message).collect())
        }

        pub async fn channel_taken(pool: &Pool, team_seq: i64, channel_name: &str) -> Result<bool> {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM visitors WHERE team_seq = $1 AND channel_name = $2")
                .bind(team_seq).bind(channel_name).fetch_one(pool).await?;
            Ok(n > 0)
        }

        /// The first answer to an idempotency key, if given within the last 24 hours.
        pub async fn idempotent_answer(pool: &Pool, team_seq: i64, key: &str) -> Result<Option<StoredAnswer>> {
            let cutoff = crate::domain::Millis::now().plus_ms(-24 * 3600 * 1000);
            let r = sqlx::query("SELECT fingerprint, status, body FROM idempotency WHERE team_seq = $1 AND key = $2 AND created_at > $3")
                .bind(team_seq).bind(key).bind(cutoff.0).fetch_optional(pool).await?;
            Ok(r.map(|r| StoredAnswer { fingerprint: r.text("fingerprint"), status: r.int("status") as u16, body: r.text("body") }))
        }

        pub async fn delivery(pool: &Pool, endpoint_seq: i64, id: &str) -> Result<Option<DeliveryRecord>> {
            let sql = format!("{DELIVERY_COLUMNS} WHERE d.endpoint_seq = $1 AND d.id = $2");
            let r = sqlx::query(&sql).bind(endpoint_seq).bind(id).fetch_optional(pool).await?;
            Ok(r.as_ref().map(rows::delivery))
        }

        pub async fn attempts(pool: &Pool, delivery_seq: i64) -> Result<Vec<AttemptRecord>> {
            let rows = sqlx::query("SELECT * FROM attempts WHERE delivery_seq = $1 ORDER BY n")
                .bind(delivery_seq).fetch_all(pool).await?;
            Ok(rows.iter().map(rows::attempt).collect())
        }

        /// The delivery's request body, its transcript rebuilt if it is stored as a head.
        pub async fn event_body(pool: &Pool, delivery_seq: i64) -> Result<String> {
            let (mut body, event, event_id, conversation, len): (String, i64, String, Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT ev.body, ev.seq, ev.id, ev.conversation_seq, ev.transcript_len
                 FROM deliveries d JOIN events ev ON ev.seq = d.event_seq WHERE d.seq = $1")
                .bind(delivery_seq).fetch_one(pool).await?;
            let mut inc = bodies::Incomplete::of(event, &event_id, conversation, len);
            if let Some(i) = inc {
                let messages = messages_after(pool, i.conversation_seq, 0).await?;
                let messages = std::collections::HashMap::from([(i.conversation_seq, messages)]);
                bodies::complete([(&mut body, &mut inc)], &messages);
            }
            match inc {
                None => Ok(body),
                Some(i) => Err(StoreError::Corrupt(bodies::unbuildable(&i))),
            }
        }
    };
}

/// Which key finds a team.
#[derive(Clone, Copy)]
pub enum KeyColumn {
    ApiKeyHash,
    SiteKey,
}

pub mod on_sqlite {
    use super::rows::{self, Columns, DELIVERY_COLUMNS};
    reads_on!(sqlx::SqlitePool);
}

pub mod on_postgres {
    use super::rows::{self, Columns, DELIVERY_COLUMNS};
    reads_on!(sqlx::PgPool);
}
