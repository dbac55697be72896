//! The online backup: one snapshot of the live database copied page by page into a new file
//! beside the target, checked, flushed, then given the target's name.

use super::check::{check_palaver_database, integrity_check};
use super::sync_dir;
use anyhow::{Context, bail};
use rusqlite::backup::{Backup, Progress, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the copy may keep finding the source locked before it gives up.
const BUSY_LIMIT: Duration = Duration::from_secs(30);

/// What a finished backup copied.
pub struct Report {
    pub pages: i32,
    pub page_size: i64,
}

/// Copies the live database `db` to `file` (refusing to replace it unless `force`).
/// `step_pages` pages are copied per step.
pub fn backup(db: &Path, file: &Path, force: bool, step_pages: u32) -> anyhow::Result<Report> {
    refuse_target(db, file, force)?;
    if !db.exists() {
        bail!(
            "there is no database at {} (is --data-dir, or PALAVER_DATA_DIR, right?)",
            db.display()
        );
    }
    let src = open_live(db)?;
    check_palaver_database(&src, db)?;
    let tmp = beside(file, &format!(".partial-{}", std::process::id()));
    let mut shown = None;
    let progress = |p: Progress| show(p, &mut shown);
    let result = copy_into(&src, &tmp, step_pages, progress).and_then(|report| {
        publish(&tmp, file, force)?;
        Ok(report)
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        let _ = fs::remove_file(beside(&tmp, "-journal"));
    }
    result
}

/// Refuses an existing `file` without `force`, and always the live database's own files.
fn refuse_target(db: &Path, file: &Path, force: bool) -> anyhow::Result<()> {
    let Ok(target) = fs::canonicalize(file) else {
        return Ok(());
    };
    for live in [db.to_path_buf(), beside(db, "-wal"), beside(db, "-shm")] {
        if fs::canonicalize(&live).is_ok_and(|l| l == target) {
            bail!(
                "{} is the live database's own file; write the backup elsewhere",
                file.display()
            );
        }
    }
    if !force {
        bail!("{} exists; pass --force to replace it", file.display());
    }
    Ok(())
}

/// Opens the live database to read it: never created, never written.
fn open_live(db: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(db, flags)
        .with_context(|| format!("cannot open {}", db.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

/// Copies `src` into a new file at `tmp` (readable by its owner only: it holds every secret's
/// hash and the Slack tokens), `step_pages` pages a step, calling `progress` after each; checks
/// and flushes it.
fn copy_into(
    src: &Connection,
    tmp: &Path,
    step_pages: u32,
    progress: impl FnMut(Progress),
) -> anyhow::Result<Report> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut dest = Connection::open(tmp)?;
    // One read transaction for the whole copy: every step reads the same snapshot, so the
    // server's commits meanwhile neither restart the copy nor mix into it.
    src.execute_batch("BEGIN")?;
    src.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    let step_pages = i32::try_from(step_pages.max(1)).unwrap_or(i32::MAX);
    let pages = steps(&Backup::new(src, &mut dest)?, step_pages, progress)?;
    src.execute_batch("COMMIT")?;
    // A file of its own: no write-ahead log beside it to keep along.
    dest.pragma_update(None, "journal_mode", "delete")?;
    integrity_check(&dest).context("the copy failed its integrity check")?;
    let page_size: i64 = dest.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    dest.close().map_err(|(_, e)| e)?;
    fs::File::open(tmp)?.sync_all()?;
    Ok(Report { pages, page_size })
}

/// Runs the copy to its end, `progress` told after each step; the page count.
fn steps(
    backup: &Backup<'_, '_>,
    step_pages: i32,
    mut progress: impl FnMut(Progress),
) -> anyhow::Result<i32> {
    let mut busy_since: Option<Instant> = None;
    loop {
        match backup.step(step_pages)? {
            StepResult::Done => {
                let p = backup.progress();
                progress(p);
                return Ok(p.pagecount);
            }
            StepResult::More => {
                busy_since = None;
                progress(backup.progress());
            }
            _ => {
                let since = *busy_since.get_or_insert_with(Instant::now);
                if since.elapsed() > BUSY_LIMIT {
                    bail!("the database stayed locked for {BUSY_LIMIT:?}; try again");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Prints the progress when it reached another tenth.
fn show(p: Progress, shown: &mut Option<i32>) {
    let total = p.pagecount.max(1);
    let done = p.pagecount - p.remaining;
    let tenth = done * 10 / total;
    if *shown != Some(tenth) {
        *shown = Some(tenth);
        eprintln!(
            "palaver backup: {}% ({done} of {} pages)",
            tenth * 10,
            p.pagecount
        );
    }
}

/// Gives the finished copy its name: atomically, and without replacing a file that appeared
/// meanwhile unless `force`.
fn publish(tmp: &Path, file: &Path, force: bool) -> anyhow::Result<()> {
    let placed = if force {
        fs::rename(tmp, file)
    } else {
        match fs::hard_link(tmp, file) {
            Ok(()) => fs::remove_file(tmp),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                bail!("{} exists; pass --force to replace it", file.display())
            }
            // A file system without hard links.
            Err(_) if file.exists() => {
                bail!("{} exists; pass --force to replace it", file.display())
            }
            Err(_) => fs::rename(tmp, file),
        }
    };
    placed.with_context(|| format!("cannot write {}", file.display()))?;
    sync_dir(file.parent().unwrap_or(Path::new(".")))?;
    Ok(())
}

/// `path` with `suffix` added to its file name (`palaver.db` → `palaver.db-wal`).
pub(super) fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in WAL mode with `rows` rows of 1 KiB.
    fn database(path: &Path, rows: i64) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "wal").unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB)")
            .unwrap();
        for id in 0..rows {
            conn.execute("INSERT INTO t VALUES (?1, zeroblob(1024))", [id])
                .unwrap();
        }
        conn
    }

    #[test]
    fn the_copy_is_the_snapshot_of_its_start_whatever_is_written_between_steps() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("live.db");
        let writer = database(&db, 2000);
        let src = open_live(&db).unwrap();
        let tmp = dir.path().join("copy.db");
        let mut steps = 0;
        let report = copy_into(&src, &tmp, 16, |_| {
            steps += 1;
            // Started over at every step, it would never end.
            assert!(steps < 1000, "the copy keeps starting over");
            // Another connection commits between every two steps, as the server does.
            writer
                .execute("INSERT INTO t VALUES (NULL, zeroblob(1024))", [])
                .unwrap();
        })
        .unwrap();
        let pages = i64::from(report.pages);
        assert!(pages > 16 * 10, "too small to need steps: {pages} pages");
        // Never started over: one pass over the pages.
        assert_eq!(
            i64::from(steps),
            (pages + 15) / 16,
            "{steps} steps for {pages} pages"
        );
        let copy = Connection::open(&tmp).unwrap();
        let rows: i64 = copy
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2000, "the copy is the database as the backup began");
        let live: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(live, 2000 + i64::from(steps));
        let mode: String = copy
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete", "the copy stands alone, without a log");
    }
}
