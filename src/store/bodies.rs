//! Event bodies as stored. A chat event's body carries its conversation's whole transcript, so
//! storing each body whole would make a conversation's storage grow with the square of its
//! length (2,000 messages: some 230 MB). The store keeps a chat event's *head* instead — the body
//! up to where the transcript starts — with the transcript's length in messages
//! ([`TranscriptCut`]), and rebuilds the rest from the conversation's messages, which are never
//! changed once written: the same bytes as were first sent ([`crate::domain::payload::assemble`]).
//!
//! Bodies only need rebuilding when read back (a claim, a lane moving on, the delivery log):
//! deliveries handed off at commit carry the body in hand.

use super::MessageRecord;
use crate::domain::payload::assemble;
use crate::domain::{MessageView, Transcript};
use std::collections::HashMap;

/// How a chat event's body is stored: its first `head_len` bytes, and `messages`, the length of
/// the transcript it was rendered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TranscriptCut {
    pub head_len: usize,
    pub messages: i64,
}

/// How a stored message shows in a payload.
impl From<&MessageRecord> for MessageView {
    fn from(m: &MessageRecord) -> Self {
        MessageView {
            user_name: m.user_name.clone(),
            user_picture: m.user_picture.clone(),
            created_at: m.created_at.iso(),
            text: m.text.clone(),
        }
    }
}

/// A body as read from the `events` table: complete when `transcript_len` is `None`, else a head
/// to complete with the first `transcript_len` messages of `conversation_seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Incomplete {
    pub conversation_seq: i64,
    pub transcript_len: i64,
}

impl Incomplete {
    /// From the `events` row's `conversation_seq` and `transcript_len`.
    pub fn of(conversation_seq: Option<i64>, transcript_len: Option<i64>) -> Option<Self> {
        Some(Incomplete {
            conversation_seq: conversation_seq?,
            transcript_len: transcript_len?,
        })
    }
}

/// The messages to read to complete `bodies`: per conversation, how many of its first messages.
pub fn wanted<'a>(bodies: impl IntoIterator<Item = &'a Option<Incomplete>>) -> Vec<(i64, i64)> {
    let mut most: HashMap<i64, i64> = HashMap::new();
    for b in bodies.into_iter().flatten() {
        let n = most.entry(b.conversation_seq).or_default();
        *n = (*n).max(b.transcript_len);
    }
    let mut wanted: Vec<(i64, i64)> = most.into_iter().collect();
    wanted.sort_unstable();
    wanted
}

/// Completes each head in `bodies` with its transcript, built from `messages` (per
/// conversation, at least as many of its first messages as [`wanted`] asked for, in order).
/// Each conversation's transcript is built once, however many of its events are completed.
pub fn complete(
    bodies: Vec<(&mut String, Option<Incomplete>)>,
    messages: &HashMap<i64, Vec<MessageRecord>>,
) -> super::Result<()> {
    let mut todo: Vec<(Incomplete, &mut String)> = bodies
        .into_iter()
        .filter_map(|(body, inc)| Some((inc?, body)))
        .collect();
    todo.sort_by_key(|(inc, _)| (inc.conversation_seq, inc.transcript_len));
    let mut current: Option<(i64, Transcript)> = None;
    for (inc, body) in todo {
        if current.as_ref().map(|(c, _)| *c) != Some(inc.conversation_seq) {
            current = Some((inc.conversation_seq, Transcript::default()));
        }
        let (conversation, transcript) = current.as_mut().expect("set above");
        let conversation = *conversation;
        let stored = messages.get(&conversation).map_or(&[][..], Vec::as_slice);
        let want = usize::try_from(inc.transcript_len).unwrap_or(usize::MAX);
        if stored.len() < want {
            return Err(super::StoreError::Corrupt(format!(
                "an event of conversation {conversation} needs {want} messages, {} are stored",
                stored.len()
            )));
        }
        for m in &stored[transcript.len()..want] {
            transcript.push(&m.into());
        }
        *body = assemble(body, transcript);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::payload::EventContext;
    use crate::domain::{EventName, Identity, Millis};

    fn message(i: i64) -> MessageRecord {
        MessageRecord {
            seq: i,
            id: format!("m_{i}"),
            agent_id: None,
            user_name: "+1".into(),
            user_picture: String::new(),
            text: format!("text \"{i}\"\n"),
            created_at: Millis(i),
        }
    }

    /// The body of an event rendered with the first `n` of `messages`.
    fn body(messages: &[MessageRecord], n: usize) -> crate::domain::payload::EventBody {
        let mut t = Transcript::default();
        for m in &messages[..n] {
            t.push(&m.into());
        }
        EventContext {
            event: EventName::MessageVisitor,
            created_at: Millis(n as i64),
            channel_name: "z-1",
            visitor_name: "+1",
            visitor_id: "v",
            identity: &Identity::default(),
            agent: None,
            transcript: &t,
        }
        .body()
    }

    #[test]
    fn heads_complete_to_the_bodies_first_rendered() {
        let a: Vec<MessageRecord> = (1..=5).map(message).collect();
        let b: Vec<MessageRecord> = (10..=12).map(message).collect();
        let originals = [
            body(&a, 3),
            body(&a, 0),
            body(&b, 3),
            body(&a, 5),
            body(&a, 3),
        ];
        let incomplete = [
            Incomplete::of(Some(1), Some(3)),
            Incomplete::of(Some(1), Some(0)),
            Incomplete::of(Some(2), Some(3)),
            Incomplete::of(Some(1), Some(5)),
            Incomplete::of(Some(1), Some(3)),
        ];
        assert_eq!(wanted(&incomplete), vec![(1, 5), (2, 3)]);
        let mut heads: Vec<String> = originals
            .iter()
            .map(|b| b.text[..b.head_len].to_string())
            .collect();
        heads.push("[1]".into()); // stored whole
        let mut bodies: Vec<(&mut String, Option<Incomplete>)> = heads
            .iter_mut()
            .zip(incomplete.into_iter().chain([None]))
            .collect();
        bodies.reverse(); // any order
        let messages = HashMap::from([(1, a.clone()), (2, b.clone())]);
        complete(bodies, &messages).unwrap();
        for (head, original) in heads.iter().zip(&originals) {
            assert_eq!(head, &original.text);
        }
        assert_eq!(heads[5], "[1]");
    }

    #[test]
    fn missing_messages_are_an_error_not_a_wrong_body() {
        let a: Vec<MessageRecord> = (1..=2).map(message).collect();
        let full = body(&a, 2);
        let mut head = full.text[..full.head_len].to_string();
        let messages = HashMap::from([(1, a[..1].to_vec())]);
        let err = complete(
            vec![(&mut head, Incomplete::of(Some(1), Some(2)))],
            &messages,
        );
        assert!(
            matches!(err, Err(super::super::StoreError::Corrupt(_))),
            "{err:?}"
        );
    }
}
