//! [`Conversations`] on PostgreSQL.

use super::*;
use crate::store::shared_reads::on_postgres;

#[async_trait]
impl Conversations for PgStore {
    async fn visitor_by_token_hash(&self, hash: &str) -> Result<Option<VisitorRecord>> {
        on_postgres::visitor_by_token_hash(&self.pool, hash).await
    }
    async fn visitor(&self, visitor_seq: i64) -> Result<Option<VisitorRecord>> {
        on_postgres::visitor(&self.pool, visitor_seq).await
    }
    async fn latest_conversation(
        &self,
        visitor_seq: i64,
    ) -> Result<Option<(ConversationRecord, Vec<MessageRecord>)>> {
        on_postgres::latest_conversation(&self.pool, visitor_seq).await
    }
    async fn conversation(&self, team_seq: i64, id: &str) -> Result<Option<ConversationRecord>> {
        on_postgres::conversation(&self.pool, team_seq, id).await
    }
    async fn conversations(
        &self,
        team_seq: i64,
        status: Option<&str>,
        page: Page,
    ) -> Result<Vec<ConversationSummary>> {
        on_postgres::conversations(&self.pool, team_seq, status, page).await
    }
    async fn messages(&self, conversation_seq: i64) -> Result<Vec<MessageRecord>> {
        on_postgres::messages_after(&self.pool, conversation_seq, 0).await
    }
    async fn messages_after(
        &self,
        conversation_seq: i64,
        after_seq: i64,
    ) -> Result<Vec<MessageRecord>> {
        on_postgres::messages_after(&self.pool, conversation_seq, after_seq).await
    }
    fn subscribe(&self) -> broadcast::Receiver<LiveChange> {
        self.live.subscribe()
    }

    async fn channel_taken(&self, team_seq: i64, channel_name: &str) -> Result<bool> {
        on_postgres::channel_taken(&self.pool, team_seq, channel_name).await
    }
    async fn commit(&self, c: Commit) -> Result<Committed> {
        self.group.commit(c).await
    }

    async fn idempotent_answer(&self, team_seq: i64, key: &str) -> Result<Option<StoredAnswer>> {
        on_postgres::idempotent_answer(&self.pool, team_seq, key).await
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
