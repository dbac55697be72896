//! The command line and environment: flags > `PALAVER_*` variables > defaults, validated at start.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

mod serve;
pub use serve::ServeArgs;

#[derive(Parser, Debug)]
#[command(
    name = "palaver",
    version,
    about = "Self-hosted live chat with Talkus-compatible webhooks"
)]
pub struct Cli {
    /// How log lines are written (to stderr): `text` for people, `json` for a log collector
    /// (one object a line: timestamp, level, target, fields).
    #[arg(long, global = true, env = "PALAVER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: CommandLine,
}

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum CommandLine {
    /// Run the server: HTTP API, live streams and webhook delivery in one process.
    Serve(Box<ServeArgs>),
    /// Manage teams.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// Connect Slack: the app manifest to create Palaver's Slack app from.
    Slack {
        #[command(subcommand)]
        command: SlackCommand,
    },
    /// Receive webhooks locally while writing your own receiver: verify each delivery's
    /// signature, print its events, forward it with --forward-to.
    Listen(crate::listen::ListenArgs),
    /// Copy the embedded SQLite store to a file, consistently, while a server runs on it
    /// (SQLite's online backup); checked before it says so.
    Backup(crate::backup::BackupArgs),
    /// Put a backup in place of a data dir's database; refused while a server runs on it.
    Restore(crate::backup::RestoreArgs),
}

#[derive(Subcommand, Debug)]
pub enum SlackCommand {
    /// Print the Slack app manifest to paste into Slack's "Create New App → From a manifest".
    Manifest {
        /// This server's public URL, e.g. https://chat.example.com (Slack sends events to
        /// <URL>/slack/events).
        #[arg(long)]
        url: String,
        /// The app's and its bot's name in Slack.
        #[arg(long, default_value = "Palaver")]
        name: String,
        /// YAML (with each scope's reason as a comment) or JSON; Slack takes both.
        #[arg(long, value_enum, default_value_t = ManifestFormat::Yaml)]
        format: ManifestFormat,
    },
}

/// How `palaver slack manifest` prints the manifest.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestFormat {
    Yaml,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum TeamCommand {
    /// Create a team; prints its id, API key and site key as JSON (the key is shown only once).
    Create {
        /// The team's name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where the data lives.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Directory for the embedded SQLite store and the generated API key.
    #[arg(long, env = "PALAVER_DATA_DIR", default_value = "./palaver-data")]
    pub data_dir: PathBuf,
    /// Use this database instead of the embedded store.
    #[arg(long, env = "PALAVER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Most connections to PostgreSQL from this process (the embedded store ignores it).
    #[arg(long, env = "PALAVER_DATABASE_POOL_SIZE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub database_pool_size: u32,
}

impl StoreArgs {
    /// The store's URL: the given one, or the SQLite file in the data dir.
    pub fn url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("palaver.db").display()),
        }
    }
}

/// The admin API key of the default team, from `PALAVER_API_KEY`. Kept out of `Debug`.
pub struct ApiKey(pub String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    pub fn from_env() -> Option<Self> {
        std::env::var("PALAVER_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
            .map(|k| ApiKey(k.trim().to_string()))
    }
}
