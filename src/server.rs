//! Start-up and graceful shutdown: open the store, make sure the default team exists, start the
//! delivery workers and the HTTP server; on a signal, stop accepting and let in-flight work end.

use crate::api::{self, AppState};
use crate::chat::Chat;
use crate::config::{ApiKey, ServeArgs};
use crate::delivery::{Couriers, Deliverer, Recoverer};
use crate::domain::{Millis, hash_secret, new_id, new_secret};
use crate::slack::SlackClient;
use crate::slack::events::Inbox;
use crate::slack::outbound::SlackCourier;
use crate::store::{self, NewTeam, Store, StoreError, Team};
use crate::web;
use anyhow::{Context, bail};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Name of the file holding a generated admin key, in the data dir.
const KEY_FILE: &str = "admin-api-key";

/// Runs `palaver serve` on `listener` until `shutdown` resolves.
pub async fn serve(
    args: ServeArgs,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let delivery = args.delivery()?;
    crate::metrics::set_delivery_timeout(delivery.timeout);
    let slack = Arc::new(SlackClient::new(&args.slack()?).map_err(anyhow::Error::msg)?);
    private_dir(&args.store.data_dir)?;
    let _lock = lock_data_dir(&args.store.data_dir)?;
    let store = store::open(&args.store.url(), args.store.database_pool_size)
        .await
        .context("cannot open the store")?;
    let released = store.release_leases(Millis::now()).await?;
    if released > 0 {
        tracing::info!(
            deliveries = released,
            "handed back the leases of the previous run"
        );
    }
    let team = bootstrap(&*store, &args.store.data_dir, ApiKey::from_env()).await?;
    tracing::info!(team = %team.id, "default team ready");

    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_all = stop_tx.clone();
    let shutdown = async move {
        shutdown.await;
        let _ = stop_all.send(true);
    };
    let couriers = Couriers {
        slack: Some(Arc::new(SlackCourier::new(store.clone(), slack.clone()))),
    };
    let deliverer = Deliverer::start(store.clone(), delivery, couriers, stop_rx.clone());
    let recoverer = Recoverer::start(store.clone(), stop_rx.clone());
    tokio::spawn(prune_answers(store.clone()));
    tokio::spawn(prune_sessions(store.clone(), args.session_idle));
    tokio::spawn(prune_slack_events(store.clone()));
    crate::retention::start(store.clone(), args.retention(), stop_rx.clone());
    let chat = Arc::new(Chat::new(store.clone(), args.conversation_cache_bytes()));
    let inbox = Inbox::start(store.clone(), chat.clone(), slack.clone(), stop_rx.clone());
    let state = AppState::new(api::Shared {
        chat,
        store: store.clone(),
        allow_private: args.allow_private_destinations,
        trusted_proxies: Arc::new(args.trusted_proxies.clone()),
        visitor_limits: {
            let (per_address, per_site) = args.visitor_limits();
            api::rate_limit::VisitorLimits::new(per_address, per_site)
        },
        auth: Arc::default(),
        session_idle: args.session_idle,
        slack,
        shutdown: stop_rx,
    });
    let site = web::Web::new(
        team.site_key.clone(),
        store.clone(),
        args.session_idle,
        Arc::new(args.trusted_proxies.clone()),
    );
    let app = api::app(state)
        .merge(web::router(site))
        .merge(inbox.router.clone())
        .into_make_service_with_connect_info::<SocketAddr>();
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    tracing::info!(%addr, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;

    tracing::info!("stopping: finishing in-flight deliveries and Slack events");
    let _ = stop_tx.send(true);
    let grace = args.shutdown_grace;
    if tokio::time::timeout(grace, async {
        deliverer.stopped().await;
        recoverer.stopped().await;
        inbox.stopped().await;
    })
    .await
    .is_err()
    {
        tracing::warn!(
            "in-flight deliveries did not finish in {grace:?}; their leases will expire and they will be sent again"
        );
    }
    if let Err(e) = store.close().await {
        tracing::warn!(error = %e, "could not tidy the store at stop");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Makes sure no other `palaver serve` uses this data dir (the embedded store has one owner).
fn lock_data_dir(dir: &Path) -> anyhow::Result<std::fs::File> {
    let path = dir.join(crate::backup::SERVE_LOCK);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another palaver serve (or a palaver restore) is using the data dir {}; stop it or \
             choose another --data-dir",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Forgets idempotent answers once they are a day old, every ten minutes.
async fn prune_answers(store: Arc<dyn Store>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        match store
            .prune_answers(Millis::now().plus_ms(-24 * 3600 * 1000))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(answers = n, "forgot day-old idempotent answers"),
            Err(e) => tracing::warn!(error = %e, "pruning idempotent answers failed"),
        }
    }
}

/// Deletes console sessions idle for longer than `idle` (they are refused already), hourly.
async fn prune_sessions(store: Arc<dyn Store>, idle: std::time::Duration) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    let idle_ms = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
    loop {
        every.tick().await;
        match store
            .end_sessions(Millis::now().plus_ms(-idle_ms), None)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "deleted idle console sessions"),
            Err(e) => tracing::warn!(error = %e, "deleting idle sessions failed"),
        }
    }
}

/// Forgets Slack event ids seen more than a day ago (Slack retries an event for minutes), hourly.
async fn prune_slack_events(store: Arc<dyn Store>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match store
            .prune_slack_events_seen(Millis::now().plus_ms(-24 * 3600 * 1000))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "forgot day-old Slack event ids"),
            Err(e) => tracing::warn!(error = %e, "pruning Slack event ids failed"),
        }
    }
}

/// Makes sure the default team exists with the configured key, or creates it with a new one.
pub async fn bootstrap(
    store: &dyn Store,
    data_dir: &Path,
    key: Option<ApiKey>,
) -> anyhow::Result<Team> {
    if let Some(team) = store.default_team().await? {
        return checked(store, team, key.as_ref()).await;
    }
    let (api_key, generated) = match &key {
        Some(ApiKey(k)) => (k.clone(), false),
        None => (new_secret("sk_"), true),
    };
    let created = store
        .create_team(NewTeam {
            id: new_id("t_"),
            name: "default".into(),
            api_key_hash: hash_secret(&api_key),
            site_key: new_secret("pk_"),
            is_default: true,
            created_at: Millis::now(),
        })
        .await;
    let team = match created {
        Ok(team) => team,
        // Another process sharing the store created it at the same moment.
        Err(StoreError::Conflict(_)) => match store.default_team().await? {
            Some(team) => return checked(store, team, key.as_ref()).await,
            None => bail!("the default team could not be created, nor found"),
        },
        Err(e) => return Err(e.into()),
    };
    if generated {
        save_key(&data_dir.join(KEY_FILE), &api_key)?;
        println!(
            "admin API key (shown once; also saved in {}): {api_key}",
            data_dir.join(KEY_FILE).display()
        );
    }
    Ok(team)
}

/// The existing default team, if `PALAVER_API_KEY` (when set) is its key.
async fn checked(store: &dyn Store, team: Team, key: Option<&ApiKey>) -> anyhow::Result<Team> {
    if let Some(ApiKey(k)) = key
        && !store.api_key_matches(team.seq, &hash_secret(k)).await?
    {
        bail!(
            "PALAVER_API_KEY does not match the default team's key stored in this database; \
             unset it to keep the stored key, or use the key the team was created with"
        );
    }
    Ok(team)
}

/// Creates the data dir readable by its owner only (it holds the database, with webhook and
/// Slack secrets, and the admin key's file); warns when an existing one is open to others.
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let made = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir);
    made.with_context(|| format!("cannot create the data dir {}", dir.display()))?;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{:o}", mode & 0o777),
            "the data dir is open to other users; it holds secrets (chmod 700 it)"
        );
    }
    Ok(())
}

fn save_key(path: &Path, key: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(f, "{key}")?;
    Ok(())
}

/// `palaver team create`: a new team with fresh keys.
pub async fn create_team(store: &dyn Store, name: &str) -> anyhow::Result<serde_json::Value> {
    let api_key = new_secret("sk_");
    let team = store
        .create_team(NewTeam {
            id: new_id("t_"),
            name: name.to_string(),
            api_key_hash: hash_secret(&api_key),
            site_key: new_secret("pk_"),
            is_default: false,
            created_at: Millis::now(),
        })
        .await?;
    Ok(
        serde_json::json!({"id": team.id, "name": team.name, "apiKey": api_key, "siteKey": team.site_key}),
    )
}
