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

/// Pages copied per step (4 MiB with SQLite's default page size), between two progress lines.
const PAGES_PER_STEP: i32 = 1024;
/// How long the copy may keep finding the source locked before it gives up.
const BUSY_LIMIT: Duration = Duration::from_secs(30);

/// What a finished backup copied.
pub struct Report {
    pub pages: i32,
    pub page_size: i64,
}

/// Copies the live database `db` to `file` (refusing to replace it unless `force`).
pub fn backup(db: &Path, file: &Path, force: bool) -> anyhow::Result<Report> {
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
    let result = copy_into(&src, &tmp).and_then(|report| {
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
/// hash and the Slack tokens), checks it and flushes it.
fn copy_into(src: &Connection, tmp: &Path) -> anyhow::Result<Report> {
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
    let pages = steps(&Backup::new(src, &mut dest)?)?;
    src.execute_batch("COMMIT")?;
    // A file of its own: no write-ahead log beside it to keep along.
    dest.pragma_update(None, "journal_mode", "delete")?;
    integrity_check(&dest).context("the copy failed its integrity check")?;
    let page_size: i64 = dest.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    dest.close().map_err(|(_, e)| e)?;
    fs::File::open(tmp)?.sync_all()?;
    Ok(Report { pages, page_size })
}

/// Runs the copy to its end, a progress line on stderr every tenth of it; the page count.
fn steps(backup: &Backup<'_, '_>) -> anyhow::Result<i32> {
    let mut shown = None;
    let mut busy_since: Option<Instant> = None;
    loop {
        match backup.step(PAGES_PER_STEP)? {
            StepResult::Done => {
                let p = backup.progress();
                show(p, &mut shown);
                return Ok(p.pagecount);
            }
            StepResult::More => {
                busy_since = None;
                show(backup.progress(), &mut shown);
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
