//! A fixture: a visitor's conversation written through commits as chat writes it.

use super::*;
use crate::domain::ConversationStatus;

/// A visitor's conversation written as chat commits would (bodies whole: no transcript cut).
pub(super) struct Conv {
    pub(super) name: String,
    pub(super) visitor: i64,
    pub(super) seq: i64,
    pub(super) version: i64,
    pub(super) at: i64,
    pub(super) said: usize,
}

impl Conv {
    /// A new visitor `name` whose conversation `c_<name>` starts at `at`, with its `start`.
    pub(super) async fn start(f: &Fixture, name: &str, at: i64) -> Conv {
        let mut c = Conv {
            name: name.into(),
            visitor: 0,
            seq: 0,
            version: 1,
            at,
            said: 0,
        };
        let steps = vec![
            Step::InsertVisitor {
                id: format!("v_{name}"),
                name: name.into(),
                channel_name: format!("z-{name}"),
                identity: crate::domain::Identity::default(),
                token_hash: format!("tok_{name}"),
                at: Millis(at),
            },
            Step::InsertConversation {
                id: format!("c_{name}"),
                visitor_seq: None,
                at: Millis(at),
            },
            c.event(EventName::Start),
        ];
        let done = f.store.commit(Commit {
            team_seq: f.team,
            steps,
        });
        let done = done.await.unwrap();
        (c.visitor, c.seq) = (done.visitor_seq.unwrap(), done.conversation_seq.unwrap());
        c
    }

    /// An event with its whole payload (no transcript: messages are not read back here).
    pub(super) fn event(&self, name: EventName) -> Step {
        let body = crate::domain::payload::EventContext {
            event: name,
            created_at: Millis(self.at),
            channel_name: &format!("z-{}", self.name),
            visitor_name: &self.name,
            visitor_id: &format!("v_{}", self.name),
            identity: &crate::domain::Identity::default(),
            agent: None,
            transcript: &crate::domain::Transcript::default(),
        }
        .body();
        Step::InsertEvent {
            id: crate::domain::new_id("evt_"),
            conversation_seq: (self.seq > 0).then_some(self.seq),
            name: name.as_str(),
            bit: name.bit(),
            lane: format!("v_{}", self.name),
            body: body.text,
            transcript: None,
            at: Millis(self.at),
        }
    }

    pub(super) async fn commit(&mut self, f: &Fixture, mut steps: Vec<Step>) {
        steps.insert(
            0,
            Step::CheckVisitor {
                seq: self.visitor,
                version: self.version,
            },
        );
        let c = Commit {
            team_seq: f.team,
            steps,
        };
        f.store.commit(c).await.unwrap();
        self.version += 1;
    }

    pub(super) async fn say(&mut self, f: &Fixture, text: &str) {
        self.said += 1;
        let message = MessageRecord {
            seq: 0,
            id: format!("m_{}_{}", self.name, self.said),
            agent_id: None,
            user_name: self.name.clone(),
            user_picture: String::new(),
            text: text.into(),
            created_at: Millis(self.at),
            origin: String::new(),
        };
        let steps = vec![
            Step::InsertMessage {
                conversation_seq: Some(self.seq),
                message,
            },
            self.event(EventName::MessageVisitor),
        ];
        self.commit(f, steps).await;
    }

    pub(super) async fn end(&mut self, f: &Fixture, at: i64) {
        let end = Step::UpdateConversation {
            seq: Some(self.seq),
            status: ConversationStatus::Ended,
            agent_id: None,
            agent: None,
            ended_at: Some(Millis(at)),
        };
        let steps = vec![end, self.event(EventName::End)];
        self.commit(f, steps).await;
    }
}
