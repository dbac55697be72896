//! Group commit on PostgreSQL: the chat commits of one process share transactions. Callers queue
//! their commit and wait; a few writer tasks each take every commit queued (up to a bound),
//! apply them together with multi-row statements (see [`super::batch`]) in one transaction that
//! holds all their lanes' locks, commit once — one WAL flush for the group — and only then
//! answer each caller. With nothing else queued a commit runs alone at once, so a quiet process
//! waits for nobody; under load, commits pile up while the writers flush and the groups grow.
//!
//! A commit that fails on its first step (a visitor changed meanwhile) fails alone. Any other
//! failure before the `COMMIT` rolls the group back and runs its commits one by one, each
//! failing or succeeding on its own as it would have without company.

use super::super::bodies::Recent;
use super::super::{Commit, Committed, Handoff, Result, StoreError};
use super::batch::{self, Applied};
use super::{LIVE, WORK, commit};
use crate::domain::Millis;
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::{Mutex, Notify, mpsc, oneshot};

/// Writer tasks: while one waits for its flush, another can apply the next group.
const WRITERS: usize = 3;
/// Most commits in one group.
const MOST: usize = 256;

/// What the writers need.
pub struct Shared {
    pub pool: PgPool,
    pub recent: Arc<Recent>,
    pub handoff: Arc<Handoff>,
    pub work: Arc<Notify>,
    pub announcements: mpsc::UnboundedSender<(&'static str, String)>,
}

struct Job {
    commit: Commit,
    answer: oneshot::Sender<Result<Committed>>,
}

/// The queue in front of the writers.
pub struct Group {
    queue: mpsc::Sender<Job>,
    #[cfg(test)]
    shared: Arc<Shared>,
}

impl Group {
    /// Starts the writers: up to [`WRITERS`], a third of the pool's `connections` at most.
    pub fn start(shared: Arc<Shared>, connections: u32) -> Group {
        let (queue, jobs) = mpsc::channel(4 * MOST);
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..(connections as usize / 3).clamp(1, WRITERS) {
            tokio::spawn(writer(jobs.clone(), shared.clone()));
        }
        Group {
            queue,
            #[cfg(test)]
            shared,
        }
    }

    /// Applies `commits` as one group, whatever else is queued (for tests).
    #[cfg(test)]
    pub async fn together(&self, commits: Vec<Commit>) -> Vec<Result<Committed>> {
        let (jobs, answers): (Vec<Job>, Vec<_>) = commits
            .into_iter()
            .map(|commit| {
                let (answer, answered) = oneshot::channel();
                (Job { commit, answer }, answered)
            })
            .unzip();
        run(&self.shared, jobs).await;
        let mut results = Vec::new();
        for a in answers {
            results.push(a.await.expect("answered"));
        }
        results
    }

    /// Applies `c` in a group's transaction; answers once that transaction is durable.
    pub async fn commit(&self, c: Commit) -> Result<Committed> {
        let (answer, answered) = oneshot::channel();
        let job = Job { commit: c, answer };
        if self.queue.send(job).await.is_err() {
            return Err(StoreError::Commit("the store is shutting down".into()));
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Commit(
                "the group's writer stopped before answering".into(),
            ))
        })
    }
}

async fn writer(jobs: Arc<Mutex<mpsc::Receiver<Job>>>, shared: Arc<Shared>) {
    loop {
        let mut group = Vec::new();
        if jobs.lock().await.recv_many(&mut group, MOST).await == 0 {
            return; // the store is gone
        }
        // Its own task: a panic fails this group's callers (their answers are dropped), not the
        // writer.
        let shared = shared.clone();
        if let Err(e) = tokio::spawn(async move { run(&shared, group).await }).await {
            tracing::error!(error = %e, "a group commit panicked");
        }
    }
}

/// Why a transaction did not commit.
enum Failed {
    /// Before its `COMMIT`: nothing of it is stored.
    Before(StoreError),
    /// At its `COMMIT`: whether it is stored is not known.
    AtCommit(StoreError),
}

async fn run(s: &Shared, group: Vec<Job>) {
    let (commits, answers): (Vec<Commit>, Vec<_>) =
        group.into_iter().map(|j| (j.commit, j.answer)).unzip();
    let lease = s.handoff.lease_until();
    match transaction(s, &commits, lease).await {
        Ok(applied) => finish(s, &commits, answers, applied),
        Err(Failed::Before(e)) if commits.len() > 1 => {
            tracing::debug!(error = %e, commits = commits.len(), "a group failed; one by one");
            for (c, answer) in commits.iter().zip(answers) {
                match transaction(s, std::slice::from_ref(c), lease).await {
                    Ok(applied) => finish(s, std::slice::from_ref(c), vec![answer], applied),
                    Err(Failed::Before(e) | Failed::AtCommit(e)) => {
                        let _ = answer.send(Err(e));
                    }
                }
            }
        }
        Err(Failed::Before(e) | Failed::AtCommit(e)) => {
            let message = e.to_string();
            let mut first = Some(e);
            for answer in answers {
                let e = first
                    .take()
                    .unwrap_or_else(|| StoreError::Commit(message.clone()));
                let _ = answer.send(Err(e));
            }
        }
    }
}

/// `commits` in one transaction holding all their lanes' locks, committed durably.
async fn transaction(
    s: &Shared,
    commits: &[Commit],
    lease: Option<Millis>,
) -> std::result::Result<Applied, Failed> {
    let lanes = commits.iter().flat_map(commit::lanes);
    let mut tx = s
        .pool
        .begin_with(commit::begin_locking(lanes))
        .await
        .map_err(|e| Failed::Before(e.into()))?;
    let applied = batch::apply(&mut tx, commits, lease, &s.recent)
        .await
        .map_err(Failed::Before)?;
    commit::commit_durable(tx, commits.len())
        .await
        .map_err(Failed::AtCommit)?;
    Ok(applied)
}

/// Hands the group's leased deliveries to the workers, tells every process, answers the callers.
fn finish(
    s: &Shared,
    commits: &[Commit],
    answers: Vec<oneshot::Sender<Result<Committed>>>,
    applied: Applied,
) {
    if applied.claimable {
        let _ = s.announcements.send((WORK, String::new()));
        s.work.notify_one();
    }
    for ((c, answer), result) in commits.iter().zip(answers).zip(applied.results) {
        let result = result.map(|mut done| {
            s.handoff.push(std::mem::take(&mut done.handed_off));
            if let Some(conversation) = done.conversation_seq {
                let change = format!("{}:{conversation}", c.team_seq);
                let _ = s.announcements.send((LIVE, change));
            }
            done
        });
        let _ = answer.send(result);
    }
}
