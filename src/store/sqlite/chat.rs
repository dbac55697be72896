//! [`Conversations`] on SQLite.

use super::*;

#[async_trait]
impl Conversations for SqliteStore {
    async fn visitor_by_token_hash(&self, hash: &str) -> Result<Option<VisitorRecord>> {
        let r = sqlx::query("SELECT * FROM visitors WHERE token_hash = ?")
            .bind(hash)
            .fetch_optional(&self.read)
            .await?;
        r.as_ref().map(rows::visitor).transpose()
    }

    async fn visitor(&self, visitor_seq: i64) -> Result<Option<VisitorRecord>> {
        let r = sqlx::query("SELECT * FROM visitors WHERE seq = ?")
            .bind(visitor_seq)
            .fetch_optional(&self.read)
            .await?;
        r.as_ref().map(rows::visitor).transpose()
    }

    async fn latest_conversation(
        &self,
        visitor_seq: i64,
    ) -> Result<Option<(ConversationRecord, Vec<MessageRecord>)>> {
        let r = sqlx::query(
            "SELECT * FROM conversations WHERE visitor_seq = ? ORDER BY seq DESC LIMIT 1",
        )
        .bind(visitor_seq)
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = r else { return Ok(None) };
        let conversation = rows::conversation(&r)?;
        let messages = self.messages(conversation.seq).await?;
        Ok(Some((conversation, messages)))
    }

    async fn conversation(&self, team_seq: i64, id: &str) -> Result<Option<ConversationRecord>> {
        let r = sqlx::query("SELECT * FROM conversations WHERE team_seq = ? AND id = ?")
            .bind(team_seq)
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        r.as_ref().map(rows::conversation).transpose()
    }

    async fn conversations(
        &self,
        team_seq: i64,
        status: Option<&str>,
        page: Page,
    ) -> Result<Vec<ConversationSummary>> {
        reads::conversations(&self.read, team_seq, status, page).await
    }

    async fn messages(&self, conversation_seq: i64) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query("SELECT * FROM messages WHERE conversation_seq = ? ORDER BY seq")
            .bind(conversation_seq)
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(rows::message).collect())
    }

    async fn messages_after(
        &self,
        conversation_seq: i64,
        after_seq: i64,
    ) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM messages WHERE conversation_seq = ? AND seq > ? ORDER BY seq",
        )
        .bind(conversation_seq)
        .bind(after_seq)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(rows::message).collect())
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<LiveChange> {
        self.live.subscribe()
    }

    async fn channel_taken(&self, team_seq: i64, channel_name: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM visitors WHERE team_seq = ? AND channel_name = ?",
        )
        .bind(team_seq)
        .bind(channel_name)
        .fetch_one(&self.read)
        .await?;
        Ok(n > 0)
    }

    async fn commit(&self, c: Commit) -> Result<Committed> {
        let team = c.team_seq;
        let handoff = self.handoff.lease_until();
        let mut done = self
            .one(move |conn| commit::apply(conn, c, handoff))
            .await?;
        if handoff.is_none() && done.deliveries > 0 {
            self.work.notify_one(); // without hand-off, a claim must find them
        }
        self.handoff.push(std::mem::take(&mut done.handed_off));
        if let Some(conversation_seq) = done.conversation_seq {
            let _ = self.live.send(LiveChange {
                team_seq: team,
                conversation_seq,
            });
        }
        Ok(done)
    }

    async fn idempotent_answer(&self, team_seq: i64, key: &str) -> Result<Option<StoredAnswer>> {
        let cutoff = Millis::now().plus_ms(-24 * 3600 * 1000);
        let r = sqlx::query("SELECT fingerprint, status, body FROM idempotency WHERE team_seq = ? AND key = ? AND created_at > ?")
            .bind(team_seq).bind(key).bind(cutoff.0).fetch_optional(&self.read).await?;
        Ok(r.map(|r| StoredAnswer {
            fingerprint: r.get(0),
            status: r.get::<i64, _>(1) as u16,
            body: r.get(2),
        }))
    }

    async fn save_answer(
        &self,
        team_seq: i64,
        key: String,
        a: StoredAnswer,
        at: Millis,
    ) -> Result<()> {
        self.one(move |c| admin::save_answer(c, team_seq, &key, &a, at))
            .await
    }

    async fn prune_answers(&self, before: Millis) -> Result<u64> {
        self.lazy(move |c| admin::prune_answers(c, before)).await
    }
}
