//! [`Notes`] on PostgreSQL.

use super::*;
use crate::store::notes::{NoteRecord, Notes, on_postgres};

#[async_trait]
impl Notes for PgStore {
    async fn add_note(&self, n: NoteRecord) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO notes (id, conversation_seq, agent_id, user_name, text, created_at, origin)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (conversation_seq, origin) WHERE origin <> '' DO NOTHING",
        )
        .bind(&n.id)
        .bind(n.conversation_seq)
        .bind(&n.agent_id)
        .bind(&n.user_name)
        .bind(&n.text)
        .bind(n.created_at.0)
        .bind(&n.origin)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn notes(&self, conversation_seq: i64) -> Result<Vec<NoteRecord>> {
        on_postgres::notes(&self.pool, conversation_seq).await
    }
}
