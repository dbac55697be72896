//! The write-ahead log's flushing: the syncer thread that flushes the writer's commits, and what
//! a failed flush means.

use super::writer::{Flush, Msg, answer};
use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

/// The write-ahead log, as flushed by the syncer (or the writer itself when the syncer is gone).
///
/// A flush that fails stops all writing until Palaver is restarted. What it covered may never
/// have reached the disk, and Linux may then mark those pages clean: a later flush would
/// "succeed" over a hole in the log, and at the next start SQLite would stop reading the log at
/// that hole, losing every commit after it — acknowledged ones included. So no later commit is
/// acknowledged, the store reports itself not ready, and a restart recovers the log up to the
/// last flush that succeeded.
pub(super) struct Log {
    pub path: PathBuf,
    /// Why writing stopped: set by the first failed flush, never cleared.
    pub broken: std::sync::OnceLock<String>,
    /// For tests: each flush takes at least this long, or fails.
    pub slow: Duration,
    pub fail: bool,
}

impl Log {
    /// Flushes the log; `file` stays open from one call to the next.
    pub fn flush(&self, file: &mut Option<File>) -> std::result::Result<(), String> {
        if let Some(why) = self.broken.get() {
            return Err(why.clone());
        }
        if !self.slow.is_zero() {
            std::thread::sleep(self.slow);
        }
        let result = if self.fail {
            Err(std::io::Error::other("a failure injected by a test"))
        } else {
            (|| {
                if file.is_none() {
                    *file = Some(File::open(&self.path)?);
                }
                file.as_ref().expect("opened").sync_data()
            })()
        };
        result.map_err(|e| {
            *file = None;
            tracing::error!(
                error = %e,
                wal = %self.path.display(),
                "cannot flush the write-ahead log: Palaver accepts no more writes until it is \
                 restarted (what this flush covered may not be on disk)"
            );
            self.broken
                .get_or_init(|| {
                    format!(
                        "the write-ahead log could not be flushed ({e}); no more writes until \
                         Palaver is restarted"
                    )
                })
                .clone()
        })
    }
}

/// Flushes the write-ahead log for every commit handed over before the flush began, tells the
/// writer, then answers their jobs: one flush for all the commits that came meanwhile. Lazy
/// commits handed over (see [`answer_lazy`]) are answered in turn, without a flush if only they
/// came.
pub(super) fn sync_loop(log: &Log, flushes: std_mpsc::Receiver<Flush>) {
    let mut file: Option<File> = None;
    while let Ok((mut waiting, notify)) = flushes.recv() {
        let mut notifiers: Vec<_> = notify.into_iter().collect();
        while let Ok((more, n)) = flushes.try_recv() {
            waiting.extend(more);
            notifiers.extend(n);
        }
        if notifiers.is_empty() {
            let result = log.broken.get().map_or(Ok(()), |why| Err(why.clone()));
            answer(waiting, result);
            continue;
        }
        let started = std::time::Instant::now();
        let flushed = log.flush(&mut file);
        crate::metrics::flushed(started.elapsed());
        for n in notifiers {
            let _ = n.send(Msg::Synced);
        }
        answer(waiting, flushed);
    }
}
