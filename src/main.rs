//! `palaver`: parses the command line and runs the server or a command.

use clap::Parser;
use palaver::config::{Cli, CommandLine, LogFormat, ManifestFormat, SlackCommand, TeamCommand};
use palaver::slack::manifest;
use palaver::{backup, listen, server, store};
use tracing_subscriber::EnvFilter;

/// jemalloc for every allocation, Rust's and (unprefixed `malloc`) SQLite's: the server
/// allocates and frees request and payload buffers across threads all the time, which glibc's
/// allocator handles slowly (see BENCHMARKS.md for the figures, and why not mimalloc).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    let format = cli.log_format;
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            match format {
                LogFormat::Text => eprintln!("palaver: {e:#}"),
                LogFormat::Json => tracing::error!(error = %format!("{e:#}"), "palaver stopped"),
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// Log lines on stderr, as `RUST_LOG` filters them (default: Palaver's at info and above).
fn init_logs(format: LogFormat) {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("palaver=info")),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        // One object a line; no span lists (Palaver's log lines carry their context as fields).
        LogFormat::Json => logs
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        CommandLine::Serve(args) => {
            let listener = tokio::net::TcpListener::bind(args.listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
            server::serve(*args, listener, shutdown_signal()?).await
        }
        CommandLine::Team {
            command: TeamCommand::Create { name, store: s },
        } => {
            std::fs::create_dir_all(&s.data_dir)?;
            let store = store::open(&s.url(), s.database_pool_size).await?;
            let team = server::create_team(&*store, &name).await?;
            println!("{team}");
            Ok(())
        }
        CommandLine::Slack {
            command: SlackCommand::Manifest { url, name, format },
        } => {
            let m = manifest::manifest(&url, &name).map_err(anyhow::Error::msg)?;
            match format {
                ManifestFormat::Yaml => print!("{}", manifest::to_yaml(&m)),
                ManifestFormat::Json => println!("{}", manifest::to_json(&m)),
            }
            if url.trim_start().starts_with("http://") {
                eprintln!("palaver: note: Slack sends events only to https URLs");
            }
            Ok(())
        }
        CommandLine::Listen(args) => listen::run(args, shutdown_signal()?).await,
        CommandLine::Backup(args) => {
            tokio::task::spawn_blocking(move || backup::backup(&args)).await?
        }
        CommandLine::Restore(args) => {
            tokio::task::spawn_blocking(move || backup::restore(&args)).await?
        }
    }
}

/// A future that resolves on SIGTERM or SIGINT. The handlers are installed now, before the
/// server says it is listening, so that a signal sent right after is never lost.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
    })
}
