//! Private notes between agents on a conversation (a reply in a thread of the visitor's Slack
//! channel): the console shows them; the visitor and the webhooks never see them. The [`Notes`]
//! part of the store.

use super::Result;
use super::rows::Columns;
use crate::domain::Millis;
use async_trait::async_trait;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteRecord {
    pub id: String,
    pub conversation_seq: i64,
    /// The agent's id in the registry (a Slack user id).
    pub agent_id: String,
    /// The agent's name when written (`real_name`, else `name`).
    pub user_name: String,
    pub text: String,
    pub created_at: Millis,
    /// Where it was written: `slack:<ts>`; a conversation has one note per origin.
    pub origin: String,
}

#[async_trait]
pub trait Notes: Send + Sync {
    /// Adds the note; answers false (and changes nothing) when the conversation already has a
    /// note of its origin.
    async fn add_note(&self, note: NoteRecord) -> Result<bool>;

    /// The conversation's notes, oldest first.
    async fn notes(&self, conversation_seq: i64) -> Result<Vec<NoteRecord>>;
}

pub fn note(r: &impl Columns) -> NoteRecord {
    NoteRecord {
        id: r.text("id"),
        conversation_seq: r.int("conversation_seq"),
        agent_id: r.text("agent_id"),
        user_name: r.text("user_name"),
        text: r.text("text"),
        created_at: Millis(r.int("created_at")),
        origin: r.text("origin"),
    }
}

macro_rules! note_reads_on {
    ($pool:ty) => {
        use super::*;

        pub async fn notes(pool: &$pool, conversation_seq: i64) -> Result<Vec<NoteRecord>> {
            let rows = sqlx::query("SELECT * FROM notes WHERE conversation_seq = $1 ORDER BY seq")
                .bind(conversation_seq)
                .fetch_all(pool)
                .await?;
            Ok(rows.iter().map(note).collect())
        }
    };
}

pub mod on_sqlite {
    note_reads_on!(sqlx::SqlitePool);
}

pub mod on_postgres {
    note_reads_on!(sqlx::PgPool);
}
