//! `palaver restore`: a checked copy of the backup put in place of the data dir's database while
//! no server runs on it, so that a crash at any point leaves either the old database or the new.
//!
//! The order matters. The new database is copied and checked under a temporary name first. The
//! old one's write-ahead log is folded into it (a checkpoint) and the file kept as
//! `palaver.db.before-restore`. Only then does the copy take the database's name, in one
//! rename: a write-ahead log left beside it would be replayed into the new file at the next
//! start, and corrupt it.

use super::check::{check_palaver_database, integrity_check};
use super::copy::beside;
use super::{SERVE_LOCK, sync_dir};
use anyhow::{Context, bail};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Restores `file` as `db` in `data_dir`; the path the previous database is kept at, if any.
pub fn restore(file: &Path, data_dir: &Path, db: &Path) -> anyhow::Result<Option<PathBuf>> {
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    let src = open(file)?;
    check_palaver_database(&src, file)?;
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
    let _lock = lock(data_dir)?;
    let tmp = beside(db, ".restoring");
    let copied = copy(&src, &tmp)
        .with_context(|| format!("cannot restore {}", file.display()))
        .and_then(|()| set_aside(db));
    let kept = match copied {
        Ok(kept) => kept,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            let _ = fs::remove_file(beside(&tmp, "-journal"));
            return Err(e);
        }
    };
    fs::rename(&tmp, db).with_context(|| format!("cannot write {}", db.display()))?;
    sync_dir(db.parent().unwrap_or(Path::new(".")))?;
    // The old log's index, if a crash left one: SQLite would rebuild it, but it is not ours.
    let _ = fs::remove_file(beside(db, "-shm"));
    Ok(kept)
}

/// Opens `file` to read it; never creates it.
fn open(file: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file, flags)
        .with_context(|| format!("cannot open {}", file.display()))?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

/// Takes the lock a running server holds on the data dir, or says a server is running.
fn lock(data_dir: &Path) -> anyhow::Result<File> {
    let path = data_dir.join(SERVE_LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => bail!(
            "a palaver server is running on the data dir {} (it holds {}); stop it before \
             restoring",
            data_dir.display(),
            path.display()
        ),
        Err(fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Copies `src` into a new file at `tmp` (its owner's only), checks and flushes it.
fn copy(src: &Connection, tmp: &Path) -> anyhow::Result<()> {
    let _ = fs::remove_file(tmp);
    let _ = fs::remove_file(beside(tmp, "-journal"));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut dest = Connection::open(tmp)?;
    {
        let backup = Backup::new(src, &mut dest)?;
        while backup.step(-1)? != StepResult::Done {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    dest.pragma_update(None, "journal_mode", "delete")?;
    integrity_check(&dest)?;
    dest.close().map_err(|(_, e)| e)?;
    File::open(tmp)?.sync_all()?;
    Ok(())
}

/// Makes the old database one file (its log checkpointed into it) and keeps it as
/// `<db>.before-restore`; a log that could not be folded in is moved along with it.
fn set_aside(db: &Path) -> anyhow::Result<Option<PathBuf>> {
    let wal = beside(db, "-wal");
    if !db.exists() {
        let _ = fs::remove_file(&wal);
        return Ok(None);
    }
    if let Err(e) = checkpoint(db) {
        eprintln!(
            "palaver restore: could not fold the previous database's write-ahead log into it \
             ({e:#}); keeping both as they are"
        );
    }
    let old = beside(db, ".before-restore");
    for stale in [old.clone(), beside(&old, "-wal"), beside(&old, "-shm")] {
        let _ = fs::remove_file(stale);
    }
    if fs::hard_link(db, &old).is_err() {
        fs::copy(db, &old).with_context(|| format!("cannot keep {}", db.display()))?;
    }
    if wal.exists() {
        fs::rename(&wal, beside(&old, "-wal"))
            .with_context(|| format!("cannot move {} aside", wal.display()))?;
    }
    sync_dir(db.parent().unwrap_or(Path::new(".")))?;
    Ok(Some(old))
}

/// Copies the old database's log into it; closing the last connection then removes the log.
fn checkpoint(db: &Path) -> anyhow::Result<()> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(db, flags)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(())
}
