//! Turning a command into the steps of one commit, while updating the in-memory state to match.

use super::state::{ConversationState, VisitorState, view};
use crate::domain::payload::EventContext;
use crate::domain::{ConversationStatus, EventName, Millis, Transcript, new_id};
use crate::store::{ConversationRecord, MessageRecord, Step, TranscriptCut};

/// Collects a command's steps; `state` is changed as the commit will change the stored rows.
pub struct Planner<'a> {
    pub state: &'a mut VisitorState,
    pub steps: Vec<Step>,
    pub now: Millis,
}

impl<'a> Planner<'a> {
    pub fn new(state: &'a mut VisitorState, now: Millis) -> Self {
        Planner {
            state,
            steps: Vec::new(),
            now,
        }
    }

    /// The current conversation (one exists after [`Planner::start_conversation`]).
    pub fn conversation(&mut self) -> &mut ConversationState {
        self.state
            .conversation
            .as_mut()
            .expect("a conversation was started")
    }

    /// Starts a new conversation for the visitor (its `seq` is known only after the commit: 0).
    pub fn start_conversation(&mut self) {
        let record = ConversationRecord {
            seq: 0,
            id: new_id("c_"),
            team_seq: self.state.visitor.team_seq,
            visitor_seq: self.state.visitor.seq,
            status: ConversationStatus::Waiting,
            agent_id: None,
            agent: None,
            started_at: self.now,
            ended_at: None,
        };
        self.steps.push(Step::InsertConversation {
            id: record.id.clone(),
            visitor_seq: seq(record.visitor_seq),
            at: self.now,
        });
        self.state.conversation = Some(ConversationState {
            record,
            transcript: Transcript::default(),
        });
    }

    /// Changes the conversation's status and, if given, its agent.
    pub fn update(&mut self, status: ConversationStatus, agent: Option<(String, String)>) {
        let now = self.now;
        let c = &mut self.conversation().record;
        c.status = status;
        if let Some((id, profile)) = agent {
            c.agent_id = Some(id);
            c.agent = Some(profile);
        }
        if status == ConversationStatus::Ended {
            c.ended_at = Some(now);
        }
        let step = Step::UpdateConversation {
            seq: seq(c.seq),
            status,
            agent_id: c.agent_id.clone(),
            agent: c.agent.clone(),
            ended_at: c.ended_at,
        };
        self.steps.push(step);
    }

    /// Appends a message to the conversation; `origin` says where it was written (see
    /// [`MessageRecord::origin`]).
    pub fn add_message(
        &mut self,
        agent_id: Option<String>,
        user_name: String,
        user_picture: String,
        text: String,
        origin: String,
    ) -> MessageRecord {
        let message = MessageRecord {
            seq: 0,
            id: new_id("m_"),
            agent_id,
            user_name,
            user_picture,
            text,
            created_at: self.now,
            origin,
        };
        let conv = self.conversation();
        conv.transcript.push(&view(&message));
        let conversation_seq = seq(conv.record.seq);
        self.steps.push(Step::InsertMessage {
            conversation_seq,
            message: message.clone(),
        });
        message
    }

    /// Fires `event`: renders its payload from the state as it is now.
    pub fn fire(&mut self, event: EventName) {
        let v = &self.state.visitor;
        let c = self
            .state
            .conversation
            .as_ref()
            .expect("events belong to a conversation");
        let body = EventContext {
            event,
            created_at: self.now,
            channel_name: &v.channel_name,
            visitor_name: &v.name,
            visitor_id: &v.id,
            identity: &v.identity,
            agent: c.record.agent.as_deref(),
            transcript: &c.transcript,
        }
        .body();
        self.steps.push(Step::InsertEvent {
            id: new_id("evt_"),
            conversation_seq: seq(c.record.seq),
            name: event.as_str(),
            bit: event.bit(),
            lane: v.id.clone(),
            body: body.text,
            transcript: Some(TranscriptCut {
                head_len: body.head_len,
                messages: body.transcript_len as i64,
            }),
            at: self.now,
        });
    }
}

/// A row reference: `None` for a row this commit inserts (seq 0 until committed).
fn seq(s: i64) -> Option<i64> {
    (s > 0).then_some(s)
}
