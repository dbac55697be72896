//! A group of chat [`Commit`]s applied in one PostgreSQL transaction with multi-row statements,
//! as SQLite's writer applies its groups: round by round, each round the next step of every
//! commit, and the steps of one kind in one statement (`unnest` of arrays) — the version checks,
//! the messages, the events with their fan-out, the idempotent answers. A step that needs a row
//! an earlier step of its commit inserted finds it in that commit's [`Committed`]; rarer steps
//! (new visitors and conversations, status and identity changes) run one statement each.

use super::super::bodies::Recent;
use super::super::feed::message_of;
use super::super::{
    Commit, Committed, ConflictKind, MessageRecord, Result, Step, StoreError, StoredAnswer,
};
use super::commit;
use super::fanout::{self, NewEvent};
use crate::domain::Millis;
use sqlx::PgConnection;
use std::collections::HashMap;

/// What a group's transaction did: each commit's result, in the group's order (a commit that
/// failed wrote nothing: its first step failed), and whether any delivery awaits a claim.
pub struct Applied {
    pub results: Vec<Result<Committed>>,
    pub claimable: bool,
}

/// One commit of the group, as its steps are applied.
struct Slot<'c> {
    team_seq: i64,
    steps: std::slice::Iter<'c, Step>,
    done: Committed,
    /// Set when a step failed: the commit takes no further part.
    failed: Option<StoreError>,
    /// Whether any of its steps ran: from then on, its failure fails the whole transaction.
    wrote: bool,
}

/// Applies `commits` in the current transaction, which holds the locks of all their lanes.
/// An `Err` means the transaction must be rolled back: a commit failed after it had written.
pub async fn apply(
    conn: &mut PgConnection,
    commits: &[Commit],
    lease_until: Option<Millis>,
    recent: &Recent,
) -> Result<Applied> {
    let mut slots: Vec<Slot> = commits
        .iter()
        .map(|c| Slot {
            team_seq: c.team_seq,
            steps: c.steps.iter(),
            done: Committed::default(),
            failed: None,
            wrote: false,
        })
        .collect();
    let mut claimable = false;
    loop {
        let mut round = Round::default();
        for (i, slot) in slots.iter_mut().enumerate() {
            if slot.failed.is_none()
                && let Some(step) = slot.steps.next()
            {
                round.add(i, slot, step);
            }
        }
        if round.is_empty() {
            break;
        }
        for (i, step) in round.single {
            let slot = &mut slots[i];
            commit::apply_step(conn, slot.team_seq, step, &mut slot.done).await?;
        }
        check_versions(conn, &mut slots, round.checks).await?;
        insert_messages(conn, &mut slots, round.messages).await?;
        if !round.events.is_empty() {
            let out =
                fanout::insert_events(conn, round.events, slots.len(), lease_until, recent).await?;
            claimable |= out.claimable;
            for (slot, made) in slots.iter_mut().zip(out.made) {
                slot.done.deliveries += made.deliveries;
                slot.done.handed_off.extend(made.handed_off);
            }
        }
        save_answers(conn, &slots, round.answers).await?;
        for slot in slots.iter_mut().filter(|s| s.failed.is_none()) {
            slot.wrote = true;
        }
    }
    let results = slots
        .into_iter()
        .map(|s| match s.failed {
            Some(e) => Err(e),
            None => Ok(s.done),
        })
        .collect();
    Ok(Applied { results, claimable })
}

/// One round's steps, by kind.
#[derive(Default)]
struct Round<'c> {
    single: Vec<(usize, &'c Step)>,
    checks: Vec<(usize, i64, i64)>,
    messages: Vec<(usize, i64, &'c MessageRecord)>,
    events: Vec<NewEvent<'c>>,
    answers: Vec<(usize, &'c str, &'c StoredAnswer, Millis)>,
}

impl<'c> Round<'c> {
    fn is_empty(&self) -> bool {
        self.single.is_empty()
            && self.checks.is_empty()
            && self.messages.is_empty()
            && self.events.is_empty()
            && self.answers.is_empty()
    }

    fn add(&mut self, i: usize, slot: &mut Slot<'c>, step: &'c Step) {
        match step {
            Step::CheckVisitor { seq, version } => self.checks.push((i, *seq, *version)),
            Step::InsertMessage {
                conversation_seq: Some(conversation),
                message,
            } => self.messages.push((i, *conversation, message)),
            Step::InsertMessage {
                conversation_seq: None,
                message,
            } if slot.done.conversation_seq.is_some() => {
                let conversation = slot.done.conversation_seq.expect("checked");
                self.messages.push((i, conversation, message))
            }
            Step::InsertEvent {
                id,
                conversation_seq,
                name,
                bit,
                lane,
                body,
                transcript,
                at,
            } => {
                let done = &mut slot.done;
                done.conversation_seq = (*conversation_seq).or(done.conversation_seq);
                let (name, bit, transcript, at) = (*name, *bit, *transcript, *at);
                self.events.push(NewEvent {
                    slot: i,
                    id,
                    team_seq: slot.team_seq,
                    conversation_seq: done.conversation_seq,
                    name,
                    bit,
                    lane,
                    body,
                    transcript,
                    message_seq: message_of(name, done),
                    at,
                });
            }
            Step::SaveAnswer { key, answer, at } => self.answers.push((i, key, answer, *at)),
            other => self.single.push((i, other)),
        }
    }
}

/// The version checks: a visitor changed meanwhile fails its commit with a conflict.
async fn check_versions(
    conn: &mut PgConnection,
    slots: &mut [Slot<'_>],
    checks: Vec<(usize, i64, i64)>,
) -> Result<()> {
    if checks.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i64> = checks.iter().map(|c| c.1).collect();
    let versions: Vec<i64> = checks.iter().map(|c| c.2).collect();
    let bumped: Vec<i64> = sqlx::query_scalar(
        "UPDATE visitor_versions v SET version = v.version + 1
           FROM unnest($1::bigint[], $2::bigint[]) AS c(seq, version)
          WHERE v.seq = c.seq AND v.version = c.version
         RETURNING v.seq",
    )
    .bind(&seqs)
    .bind(&versions)
    .fetch_all(&mut *conn)
    .await?;
    for (i, seq, _) in checks {
        let slot = &mut slots[i];
        if bumped.contains(&seq) {
            slot.done.visitor_seq = Some(seq);
        } else if slot.wrote {
            return Err(StoreError::Conflict(ConflictKind::VisitorVersion));
        } else {
            slot.failed = Some(StoreError::Conflict(ConflictKind::VisitorVersion));
        }
    }
    Ok(())
}

/// The messages, in the group's order.
async fn insert_messages(
    conn: &mut PgConnection,
    slots: &mut [Slot<'_>],
    messages: Vec<(usize, i64, &MessageRecord)>,
) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let n = messages.len();
    let (mut ids, mut conversations, mut agents) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut names, mut pictures, mut texts, mut ats, mut origins) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (_, conversation, m) in &messages {
        ids.push(m.id.as_str());
        conversations.push(*conversation);
        agents.push(m.agent_id.as_deref());
        names.push(m.user_name.as_str());
        pictures.push(m.user_picture.as_str());
        texts.push(m.text.as_str());
        ats.push(m.created_at.0);
        origins.push(m.origin.as_str());
    }
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO messages (id, conversation_seq, agent_id, user_name, user_picture, text, created_at, origin)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                              $7::bigint[], $8::text[])
         RETURNING seq, id",
    )
    .bind(&ids)
    .bind(&conversations)
    .bind(&agents)
    .bind(&names)
    .bind(&pictures)
    .bind(&texts)
    .bind(&ats)
    .bind(&origins)
    .fetch_all(&mut *conn)
    .await?;
    let seqs: HashMap<&str, i64> = rows.iter().map(|(seq, id)| (id.as_str(), *seq)).collect();
    for (i, conversation, m) in &messages {
        let done = &mut slots[*i].done;
        done.conversation_seq = Some(*conversation);
        done.message_seq = Some(seqs[m.id.as_str()]);
    }
    Ok(())
}

/// The idempotent answers: a key saved meanwhile (by a concurrent retry of the same request)
/// fails the transaction, as the commit has written by then.
async fn save_answers(
    conn: &mut PgConnection,
    slots: &[Slot<'_>],
    answers: Vec<(usize, &str, &StoredAnswer, Millis)>,
) -> Result<()> {
    if answers.is_empty() {
        return Ok(());
    }
    let teams: Vec<i64> = answers.iter().map(|a| slots[a.0].team_seq).collect();
    let keys: Vec<&str> = answers.iter().map(|a| a.1).collect();
    let prints: Vec<&str> = answers.iter().map(|a| a.2.fingerprint.as_str()).collect();
    let statuses: Vec<i64> = answers.iter().map(|a| a.2.status as i64).collect();
    let bodies: Vec<&str> = answers.iter().map(|a| a.2.body.as_str()).collect();
    let ats: Vec<i64> = answers.iter().map(|a| a.3.0).collect();
    let saved = sqlx::query(
        "INSERT INTO idempotency (team_seq, key, fingerprint, status, body, created_at)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[])
         ON CONFLICT DO NOTHING",
    )
    .bind(&teams)
    .bind(&keys)
    .bind(&prints)
    .bind(&statuses)
    .bind(&bodies)
    .bind(&ats)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if saved as usize != answers.len() {
        return Err(StoreError::Conflict(ConflictKind::IdempotencyKey));
    }
    Ok(())
}
