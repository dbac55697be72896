//! [`Conversations`] on SQLite.

use super::*;
use crate::store::shared_reads::on_sqlite;

#[async_trait]
impl Conversations for SqliteStore {
    async fn visitor_by_token_hash(&self, hash: &str) -> Result<Option<VisitorRecord>> {
        on_sqlite::visitor_by_token_hash(&self.read, hash).await
    }
    async fn visitor(&self, visitor_seq: i64) -> Result<Option<VisitorRecord>> {
        on_sqlite::visitor(&self.read, visitor_seq).await
    }
    async fn latest_conversation(
        &self,
        visitor_seq: i64,
    ) -> Result<Option<(ConversationRecord, Vec<MessageRecord>)>> {
        on_sqlite::latest_conversation(&self.read, visitor_seq).await
    }
    async fn conversation(&self, team_seq: i64, id: &str) -> Result<Option<ConversationRecord>> {
        on_sqlite::conversation(&self.read, team_seq, id).await
    }
    async fn conversations(
        &self,
        team_seq: i64,
        status: Option<&str>,
        page: Page,
    ) -> Result<Vec<ConversationSummary>> {
        on_sqlite::conversations(&self.read, team_seq, status, page).await
    }
    async fn messages(&self, conversation_seq: i64) -> Result<Vec<MessageRecord>> {
        on_sqlite::messages_after(&self.read, conversation_seq, 0).await
    }
    async fn messages_after(
        &self,
        conversation_seq: i64,
        after_seq: i64,
    ) -> Result<Vec<MessageRecord>> {
        on_sqlite::messages_after(&self.read, conversation_seq, after_seq).await
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<LiveChange> {
        self.live.subscribe()
    }

    async fn channel_taken(&self, team_seq: i64, channel_name: &str) -> Result<bool> {
        on_sqlite::channel_taken(&self.read, team_seq, channel_name).await
    }
    async fn commit(&self, c: Commit) -> Result<Committed> {
        let team = c.team_seq;
        let handoff = self.handoff.lease_until();
        // A command fails on its first statement (the version check, or a new visitor's channel
        // name) — unless it saves an idempotent answer, whose key may clash at the end.
        let guard = match c.steps.first() {
            Some(Step::CheckVisitor { .. } | Step::InsertVisitor { .. })
                if !c.steps.iter().any(|s| matches!(s, Step::SaveAnswer { .. })) =>
            {
                Guard::FailsFirst
            }
            _ => Guard::Savepoint,
        };
        let recent = self.recent.clone();
        let mut done = self
            .writer
            .run_guarded(Sync::Durable, guard, move |conn| {
                commit::apply(conn, c, handoff, &recent)
            })
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
        on_sqlite::idempotent_answer(&self.read, team_seq, key).await
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
