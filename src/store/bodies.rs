//! Event bodies as stored. A chat event's body carries its conversation's whole transcript, so
//! storing each body whole would make a conversation's storage grow with the square of its
//! length (2,000 messages: some 230 MB). The store keeps a chat event's *head* instead — the body
//! up to where the transcript starts — with the transcript's length in messages
//! ([`TranscriptCut`]), and rebuilds the rest from the conversation's messages, which are never
//! changed once written: the same bytes as were first sent ([`crate::domain::payload::assemble`]).
//!
//! Bodies only need rebuilding when read back (a claim, a lane moving on, the delivery log):
//! deliveries handed off at commit carry the body in hand, and the bodies of recent events whose
//! deliveries were not handed off are kept in memory ([`Recent`]), so that the rebuild — reading
//! the conversation's messages — is for retries and restarts, not for the common path.

use super::MessageRecord;
use crate::domain::payload::assemble;
use crate::domain::{MessageView, Transcript};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Most bytes of bodies [`Recent`] keeps.
const RECENT_BYTES: usize = 8 << 20;

/// The bodies of the latest chat events whose deliveries will be read back (they wait behind
/// their lane, or are left for a claim), by event seq; the oldest go first past 8 MB.
///
/// A kept body is only used for the same event (seq and public id), a head it extends and the
/// same transcript length: an event kept by a transaction that was then undone may leave its
/// seq to the next event (SQLite reuses row ids), and that one's body must not be taken for it.
#[derive(Default)]
pub struct Recent {
    inner: Mutex<RecentInner>,
}

#[derive(Default)]
struct RecentInner {
    /// Body, transcript length and [`id_key`] of the event id, by event seq.
    bodies: HashMap<i64, (Arc<str>, i64, u64)>,
    order: VecDeque<i64>,
    bytes: usize,
}

impl Recent {
    /// Keeps the complete body of chat event `event_seq` (public id `event_id`), rendered with
    /// a transcript of `transcript_len` messages.
    pub fn keep(&self, event_seq: i64, event_id: &str, body: &str, transcript_len: i64) {
        if body.len() > RECENT_BYTES / 4 {
            return;
        }
        let kept = (Arc::from(body), transcript_len, id_key(event_id));
        let mut r = self.inner.lock().expect("recent bodies poisoned");
        match r.bodies.insert(event_seq, kept) {
            None => {
                r.order.push_back(event_seq);
                crate::memory::BODIES.added(body.len());
            }
            Some((old, _, _)) => {
                r.bytes -= old.len();
                crate::memory::BODIES.resized(old.len(), body.len());
            }
        }
        r.bytes += body.len();
        while r.bytes > RECENT_BYTES {
            let Some(old) = r.order.pop_front() else {
                break;
            };
            if let Some((b, _, _)) = r.bodies.remove(&old) {
                r.bytes -= b.len();
                crate::memory::BODIES.removed(b.len(), true);
            }
        }
    }

    /// Completes the heads of `bodies` whose whole body is kept here; they are complete after.
    pub fn fill<'a>(
        &self,
        bodies: impl IntoIterator<Item = (&'a mut String, &'a mut Option<Incomplete>)>,
    ) {
        let r = self.inner.lock().expect("recent bodies poisoned");
        for (body, inc) in bodies {
            let Some(i) = *inc else { continue };
            match r.bodies.get(&i.event_seq) {
                Some((kept, len, key))
                    if *key == i.event_key
                        && *len == i.transcript_len
                        && kept.starts_with(body.as_str()) =>
                {
                    body.clear();
                    body.push_str(kept);
                    *inc = None;
                }
                _ => {}
            }
        }
    }
}

/// A short fingerprint of an event's public id, to tell two events that had the same seq apart.
fn id_key(event_id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    event_id.hash(&mut h);
    h.finish()
}

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
    pub event_seq: i64,
    /// [`id_key`] of the event's public id.
    pub event_key: u64,
    pub conversation_seq: i64,
    pub transcript_len: i64,
}

impl Incomplete {
    /// From the `events` row's `seq`, `id`, `conversation_seq` and `transcript_len`.
    pub fn of(
        event_seq: i64,
        event_id: &str,
        conversation_seq: Option<i64>,
        transcript_len: Option<i64>,
    ) -> Option<Self> {
        Some(Incomplete {
            event_seq,
            event_key: id_key(event_id),
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
/// conversation, at least as many of its first messages as [`wanted`] asked for, in order), and
/// marks it complete (`None`). Each conversation's transcript is built once, however many of its
/// events are completed. A head whose messages are not all there stays as it is, still marked
/// incomplete: the caller must not send it (see [`unbuildable`]).
pub fn complete<'a>(
    bodies: impl IntoIterator<Item = (&'a mut String, &'a mut Option<Incomplete>)>,
    messages: &HashMap<i64, Vec<MessageRecord>>,
) {
    let mut todo: Vec<(&mut Option<Incomplete>, &mut String)> = bodies
        .into_iter()
        .filter(|(_, inc)| inc.is_some())
        .map(|(body, inc)| (inc, body))
        .collect();
    todo.sort_by_key(|(inc, _)| inc.map(|i| (i.conversation_seq, i.transcript_len)));
    let mut current: Option<(i64, Transcript)> = None;
    for (slot, body) in todo {
        let inc = slot.expect("kept incomplete ones only");
        if current.as_ref().map(|(c, _)| *c) != Some(inc.conversation_seq) {
            current = Some((inc.conversation_seq, Transcript::default()));
        }
        let (conversation, transcript) = current.as_mut().expect("set above");
        let conversation = *conversation;
        let stored = messages.get(&conversation).map_or(&[][..], Vec::as_slice);
        let want = usize::try_from(inc.transcript_len).unwrap_or(usize::MAX);
        if stored.len() < want {
            continue;
        }
        for m in &stored[transcript.len().min(want)..want] {
            transcript.push(&m.into());
        }
        *body = assemble(body, transcript);
        *slot = None;
    }
}

/// A claimed delivery whose body may still be a head to complete.
pub type Partial = (super::Claimed, Option<Incomplete>);

/// Completing claimed deliveries' bodies, first step: those kept in `recent` are filled in.
/// Answers the messages to read for the others ([`wanted`]), to give to [`finish`].
pub fn fill_from(recent: &Recent, partial: &mut [Partial]) -> Vec<(i64, i64)> {
    recent.fill(partial.iter_mut().map(|(c, inc)| (&mut c.body, inc)));
    wanted(partial.iter().map(|(_, inc)| inc))
}

/// Last step: the other bodies rebuilt from `messages`; answers the deliveries, those that
/// cannot be sent marked ([`sendable`]).
pub fn finish(
    mut partial: Vec<Partial>,
    messages: &HashMap<i64, Vec<MessageRecord>>,
) -> Vec<super::Claimed> {
    complete(
        partial.iter_mut().map(|(c, inc)| (&mut c.body, inc)),
        messages,
    );
    sendable(partial)
}

/// The claimed deliveries, each one whose body could not be rebuilt marked
/// [`unsendable`](super::Claimed::unsendable) with the reason: the worker fails it with that
/// reason in its log, so that it never goes out wrong, never blocks its lane and is not claimed
/// again and again.
pub fn sendable(partial: Vec<Partial>) -> Vec<super::Claimed> {
    partial
        .into_iter()
        .map(|(mut c, inc)| {
            if let Some(inc) = inc {
                c.body.clear();
                c.unsendable = Some(unbuildable(&inc));
            }
            c
        })
        .collect()
}

/// Why a body left incomplete by [`complete`] cannot be sent: for the logs and the errors.
pub fn unbuildable(inc: &Incomplete) -> String {
    format!(
        "the body of event {} cannot be rebuilt: it needs the first {} messages of conversation {}, \
         and some are gone",
        inc.event_seq, inc.transcript_len, inc.conversation_seq
    )
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
            origin: String::new(),
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
            Incomplete::of(1, "evt_1", Some(1), Some(3)),
            Incomplete::of(2, "evt_2", Some(1), Some(0)),
            Incomplete::of(3, "evt_3", Some(2), Some(3)),
            Incomplete::of(4, "evt_4", Some(1), Some(5)),
            Incomplete::of(5, "evt_5", Some(1), Some(3)),
        ];
        assert_eq!(wanted(&incomplete), vec![(1, 5), (2, 3)]);
        let mut heads: Vec<String> = originals
            .iter()
            .map(|b| b.text[..b.head_len].to_string())
            .collect();
        heads.push("[1]".into()); // stored whole
        let mut incs: Vec<Option<Incomplete>> = incomplete.into_iter().chain([None]).collect();
        let mut bodies: Vec<(&mut String, &mut Option<Incomplete>)> =
            heads.iter_mut().zip(incs.iter_mut()).collect();
        bodies.reverse(); // any order
        let messages = HashMap::from([(1, a.clone()), (2, b.clone())]);
        complete(bodies, &messages);
        for (head, original) in heads.iter().zip(&originals) {
            assert_eq!(head, &original.text);
        }
        assert_eq!(heads[5], "[1]");
        assert!(incs.iter().all(Option::is_none), "all complete: {incs:?}");
    }

    #[test]
    fn recent_bodies_complete_heads_without_messages_and_the_oldest_go_first() {
        let recent = Recent::default();
        let big = format!("[{}", "x".repeat(RECENT_BYTES / 4 - 1));
        for seq in 1..=5 {
            recent.keep(seq, &format!("evt_{}", seq), &big, 1);
        }
        recent.keep(6, "evt_6", &format!("{big}too big"), 1);
        let mut heads: Vec<String> = vec!["[".into(); 6];
        let mut incs: Vec<Option<Incomplete>> = (1..=6)
            .map(|s| Incomplete::of(s, &format!("evt_{}", s), Some(1), Some(1)))
            .collect();
        recent.fill(heads.iter_mut().zip(incs.iter_mut()));
        // Four fit: the first is gone, and one too big was never kept.
        let kept: Vec<bool> = incs.iter().map(Option::is_none).collect();
        assert_eq!(kept, [false, true, true, true, true, false]);
        assert_eq!(heads[1], big);
        assert_eq!(heads[0], "[");
    }

    /// SQLite gives an undone event's seq to the next one: a kept body is only used for the
    /// head it extends, rendered with the same transcript length.
    #[test]
    fn a_kept_body_is_not_taken_for_another_event_with_its_seq() {
        let a: Vec<MessageRecord> = (1..=3).map(message).collect();
        let (undone, next) = (body(&a, 2), body(&a, 3));
        let recent = Recent::default();
        recent.keep(7, "evt_7", &undone.text, 2);
        let mut head = next.text[..next.head_len].to_string();
        let mut inc = Incomplete::of(7, "evt_7", Some(1), Some(3));
        recent.fill([(&mut head, &mut inc)]);
        assert!(inc.is_some(), "not filled from another event's body");
        assert_eq!(head, next.text[..next.head_len]);
        // Another head with the same transcript length is not filled either.
        let mut other = String::from("[{\"event\":\"end\"");
        let mut inc = Incomplete::of(7, "evt_7", Some(1), Some(2));
        recent.fill([(&mut other, &mut inc)]);
        assert!(inc.is_some());
        // Nor its own head under another event's id.
        let mut own = undone.text[..undone.head_len].to_string();
        let mut inc = Incomplete::of(7, "evt_other", Some(1), Some(2));
        recent.fill([(&mut own, &mut inc)]);
        assert!(inc.is_some());
        // Its own head is.
        let mut own = undone.text[..undone.head_len].to_string();
        let mut inc = Incomplete::of(7, "evt_7", Some(1), Some(2));
        recent.fill([(&mut own, &mut inc)]);
        assert_eq!((own, inc), (undone.text, None));
    }

    #[test]
    fn missing_messages_leave_the_head_incomplete_never_a_wrong_body() {
        let a: Vec<MessageRecord> = (1..=3).map(message).collect();
        let (one, three) = (body(&a, 1), body(&a, 3));
        let mut heads = [
            one.text[..one.head_len].to_string(),
            three.text[..three.head_len].to_string(),
        ];
        let mut incs = [
            Incomplete::of(1, "evt_1", Some(1), Some(1)),
            Incomplete::of(2, "evt_2", Some(1), Some(3)),
        ];
        let messages = HashMap::from([(1, a[..2].to_vec())]);
        complete(heads.iter_mut().zip(incs.iter_mut()), &messages);
        assert_eq!((heads[0].as_str(), incs[0]), (one.text.as_str(), None));
        assert_eq!(heads[1], three.text[..three.head_len], "left as it was");
        assert!(unbuildable(incs[1].as_ref().unwrap()).contains("event 2"));
    }
}
