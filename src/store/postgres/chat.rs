//! [`Conversations`] on PostgreSQL.

use super::*;

#[async_trait]
impl Conversations for PgStore {
    async fn visitor_by_token_hash(&self, hash: &str) -> Result<Option<VisitorRecord>> {
        let r = sqlx::query("SELECT * FROM visitors WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(rows::visitor).transpose()
    }

    async fn visitor(&self, visitor_seq: i64) -> Result<Option<VisitorRecord>> {
        let r = sqlx::query("SELECT * FROM visitors WHERE seq = $1")
            .bind(visitor_seq)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(rows::visitor).transpose()
    }

    async fn latest_conversation(
        &self,
        visitor_seq: i64,
    ) -> Result<Option<(ConversationRecord, Vec<MessageRecord>)>> {
        let r = sqlx::query(
            "SELECT * FROM conversations WHERE visitor_seq = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(visitor_seq)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = r else { return Ok(None) };
        let conversation = rows::conversation(&r)?;
        let messages = self.messages(conversation.seq).await?;
        Ok(Some((conversation, messages)))
    }

    async fn conversation(&self, team_seq: i64, id: &str) -> Result<Option<ConversationRecord>> {
        let r = sqlx::query("SELECT * FROM conversations WHERE team_seq = $1 AND id = $2")
            .bind(team_seq)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(rows::conversation).transpose()
    }

    async fn conversations(
        &self,
        team_seq: i64,
        status: Option<&str>,
        page: Page,
    ) -> Result<Vec<ConversationSummary>> {
        let rows = sqlx::query(
            "SELECT c.*, v.id AS visitor_id, v.name AS visitor_name, v.channel_name
             FROM conversations c JOIN visitors v ON v.seq = c.visitor_seq
             WHERE c.team_seq = $1 AND c.seq < $2 AND ($3::text IS NULL OR c.status = $3)
             ORDER BY c.seq DESC LIMIT $4",
        )
        .bind(team_seq)
        .bind(page.before.unwrap_or(i64::MAX))
        .bind(status)
        .bind(page.limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::conversation_summary).collect()
    }

    async fn messages(&self, conversation_seq: i64) -> Result<Vec<MessageRecord>> {
        self.messages_after(conversation_seq, 0).await
    }

    async fn messages_after(
        &self,
        conversation_seq: i64,
        after_seq: i64,
    ) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM messages WHERE conversation_seq = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(conversation_seq)
        .bind(after_seq)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(rows::message).collect())
    }

    fn subscribe(&self) -> broadcast::Receiver<LiveChange> {
        self.live.subscribe()
    }

    async fn channel_taken(&self, team_seq: i64, channel_name: &str) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM visitors WHERE team_seq = $1 AND channel_name = $2)",
        )
        .bind(team_seq)
        .bind(channel_name)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn commit(&self, c: Commit) -> Result<Committed> {
        let team = c.team_seq;
        let mut tx = self.pool.begin().await?;
        let done = commit::apply(tx.acquire().await?, c).await?;
        tx.commit().await?;
        if done.deliveries > 0 {
            self.announce(WORK, String::new());
            self.work.notify_one();
        }
        if let Some(conversation) = done.conversation_seq {
            self.announce(LIVE, format!("{team}:{conversation}"));
        }
        Ok(done)
    }

    async fn idempotent_answer(&self, team_seq: i64, key: &str) -> Result<Option<StoredAnswer>> {
        let cutoff = Millis::now().plus_ms(-24 * 3600 * 1000);
        let r = sqlx::query("SELECT fingerprint, status, body FROM idempotency WHERE team_seq = $1 AND key = $2 AND created_at > $3")
            .bind(team_seq).bind(key).bind(cutoff.0).fetch_optional(&self.pool).await?;
        Ok(r.map(|r| StoredAnswer {
            fingerprint: r.text("fingerprint"),
            status: r.int("status") as u16,
            body: r.text("body"),
        }))
    }

    async fn save_answer(
        &self,
        team_seq: i64,
        key: String,
        a: StoredAnswer,
        at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO idempotency (team_seq, key, fingerprint, status, body, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(team_seq)
        .bind(key)
        .bind(a.fingerprint)
        .bind(a.status as i64)
        .bind(a.body)
        .bind(at.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn prune_answers(&self, before: Millis) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM idempotency WHERE created_at < $1")
            .bind(before.0)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
