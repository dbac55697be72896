//! `palaver backup` and `palaver restore`: a consistent copy of the embedded SQLite store taken
//! while a server runs on it (SQLite's online backup API, from a process of its own), and the
//! way back from such a copy into a data dir.
//!
//! The copy is the database as it was at one instant: the backup holds one read transaction on
//! the live database from its first page to its last. In WAL mode a reader never blocks the
//! server's writer, which keeps committing meanwhile; those later commits are simply not in
//! the copy. Checkpoints cannot copy the log past that instant while the backup reads, so the
//! write-ahead log grows for the time of the backup and is copied into the database after it.
//!
//! PostgreSQL has its own tools (`pg_dump`, `pg_restore`); both commands refuse its URLs.

mod check;
mod copy;
mod replace;

use clap::Args;
use std::path::{Path, PathBuf};

pub use check::{check_palaver_database, integrity_check};

/// The file in the data dir that a running `palaver serve` holds locked (exclusively), so
/// that a second server, or a restore, cannot use the data dir under it.
pub const SERVE_LOCK: &str = "serve.lock";

/// `palaver backup`'s flags.
#[derive(Args, Debug, Clone)]
pub struct BackupArgs {
    /// The file to write the copy to (refused if it exists, unless --force).
    pub file: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Pages copied per step (a progress line each tenth of the way); the server's commits go
    /// on between and during steps either way.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub step_pages: u32,
    #[command(flatten)]
    pub store: crate::config::StoreArgs,
}

/// `palaver restore`'s flags.
#[derive(Args, Debug, Clone)]
pub struct RestoreArgs {
    /// A copy made by `palaver backup` (or the database file of a stopped server).
    pub file: PathBuf,
    #[command(flatten)]
    pub store: crate::config::StoreArgs,
}

/// Copies the store's database to `args.file`; progress on stderr, one line on stdout at the end.
pub fn backup(args: &BackupArgs) -> anyhow::Result<()> {
    let db = sqlite_path(&args.store, "back up", "pg_dump")?;
    let report = copy::backup(&db, &args.file, args.force, args.step_pages)?;
    println!(
        "backed up {} to {} ({} pages of {} bytes; integrity check ok)",
        db.display(),
        args.file.display(),
        report.pages,
        report.page_size
    );
    Ok(())
}

/// Replaces the data dir's database with `args.file`, refusing while a server runs on it.
pub fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let db = sqlite_path(
        &args.store,
        "restore",
        "pg_restore (or psql for a plain dump)",
    )?;
    let kept = replace::restore(&args.file, &args.store.data_dir, &db)?;
    match kept {
        Some(old) => println!(
            "restored {} into {} (the previous database is kept as {})",
            args.file.display(),
            db.display(),
            old.display()
        ),
        None => println!("restored {} into {}", args.file.display(), db.display()),
    }
    Ok(())
}

/// The SQLite file the store arguments name, or why this command cannot work on their store.
fn sqlite_path(
    store: &crate::config::StoreArgs,
    verb: &str,
    tool: &str,
) -> anyhow::Result<PathBuf> {
    let url = store.url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        anyhow::bail!(
            "cannot {verb} a PostgreSQL database with palaver (it works on the embedded SQLite \
             store only): use PostgreSQL's own {tool}; see docs/backups.md"
        );
    }
    Ok(Path::new(url.strip_prefix("sqlite://").unwrap_or(&url)).to_path_buf())
}

/// Flushes a directory, so that a rename or a new file in it survives a crash.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::File::open(dir)?.sync_all()
}
