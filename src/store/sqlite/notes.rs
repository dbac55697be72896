//! [`Notes`] on SQLite.

use super::*;
use crate::store::notes::{NoteRecord, Notes, on_sqlite};
use rusqlite::params;

#[async_trait]
impl Notes for SqliteStore {
    async fn add_note(&self, n: NoteRecord) -> Result<bool> {
        self.one(move |c| {
            Ok(c.prepare_cached(
                "INSERT INTO notes (id, conversation_seq, agent_id, user_name, text, created_at, origin)
                 VALUES (?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (conversation_seq, origin) WHERE origin <> '' DO NOTHING",
            )?
            .execute(params![
                n.id,
                n.conversation_seq,
                n.agent_id,
                n.user_name,
                n.text,
                n.created_at.0,
                n.origin
            ])? == 1)
        })
        .await
    }

    async fn notes(&self, conversation_seq: i64) -> Result<Vec<NoteRecord>> {
        on_sqlite::notes(&self.read, conversation_seq).await
    }
}
