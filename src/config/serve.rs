//! `palaver serve`'s flags and what the server is built from them.

use super::StoreArgs;
use crate::delivery::schedule::parse_duration;
use crate::delivery::{DeliveryConfig, RetrySchedule, WebhookProxy};
use crate::retention::{Retention, RetentionConfig};
use crate::slack::SlackConfig;
use crate::slack::client::check_api_url;
use crate::store::HealthRules;
use clap::Args;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "PALAVER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Allow webhooks to loopback, private, link-local and other non-public addresses.
    #[arg(long, env = "PALAVER_ALLOW_PRIVATE_DESTINATIONS", value_parser = clap::builder::FalseyValueParser::new())]
    pub allow_private_destinations: bool,
    /// Delays between attempts, e.g. `5s,5m,30m,2h,5h,10h,10h` (the default); ±20% jitter.
    #[arg(long, env = "PALAVER_RETRY_SCHEDULE", value_parser = RetrySchedule::parse)]
    pub retry_schedule: Option<RetrySchedule>,
    /// Total time one attempt may take, answer included.
    #[arg(long, env = "PALAVER_DELIVERY_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    pub delivery_timeout: Duration,
    /// Most webhook attempts in flight at once.
    #[arg(long, env = "PALAVER_DELIVERY_CONCURRENCY", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub delivery_concurrency: u32,
    /// Proxies whose `X-Forwarded-For` gives the visitor's address (comma-separated IPs).
    #[arg(long, env = "PALAVER_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,
    /// A PEM file of certificates to trust for HTTPS webhooks, beside the system's roots and
    /// Mozilla's (for receivers behind an internal certificate authority).
    #[arg(long, env = "PALAVER_CA_CERTS")]
    pub ca_certs: Option<std::path::PathBuf>,
    /// An egress proxy for webhooks, `http://[user:password@]host:port`: HTTPS destinations
    /// through a CONNECT tunnel, plain HTTP ones forwarded. Addresses behind it are then the
    /// proxy's to check.
    #[arg(long, env = "PALAVER_WEBHOOK_PROXY")]
    pub webhook_proxy: Option<String>,
    /// Every delivery to a webhook failing this long disables it (its deliveries held, then
    /// probed); `0` never does.
    #[arg(long, env = "PALAVER_ENDPOINT_DISABLE_AFTER", default_value = "5d", value_parser = parse_duration)]
    pub endpoint_disable_after: Duration,
    /// How often a webhook disabled for failing gets one held delivery tried.
    #[arg(long, env = "PALAVER_ENDPOINT_PROBE_INTERVAL", default_value = "1h", value_parser = parse_positive_duration)]
    pub endpoint_probe_interval: Duration,
    /// Seconds to wait for in-flight requests and deliveries on shutdown.
    #[arg(long, env = "PALAVER_SHUTDOWN_GRACE", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// How long a console session lives unused before it ends (sign in again).
    #[arg(long, env = "PALAVER_SESSION_IDLE", default_value = "12h", value_parser = parse_duration)]
    pub session_idle: Duration,
    /// Visitor API requests per minute per client address (IPv6: per /64); 0 turns it off.
    #[arg(long, env = "PALAVER_VISITOR_RATE_LIMIT", default_value_t = 120)]
    pub visitor_rate_limit: u32,
    /// Visitor API requests per minute per site (team); 0 turns it off. Default: 100 times
    /// `--visitor-rate-limit`.
    #[arg(long, env = "PALAVER_VISITOR_SITE_RATE_LIMIT")]
    pub visitor_site_rate_limit: Option<u32>,
    /// Purge delivered and failed deliveries, with their attempts, this long after their last
    /// attempt (`30d`, `12h`, …; `off` keeps them). Pending deliveries are never purged.
    #[arg(long, env = "PALAVER_RETENTION", default_value = "30d", value_parser = Retention::parse)]
    pub retention: Retention,
    /// Purge conversations this long after they ended, with their messages and events (`90d`,
    /// …); `off`, the default, keeps them.
    #[arg(long, env = "PALAVER_MESSAGE_RETENTION", default_value = "off", value_parser = Retention::parse)]
    pub message_retention: Retention,
    /// The Slack Web API's base URL (a stand-in's for tests).
    #[arg(long, env = "PALAVER_SLACK_API_URL", default_value = crate::slack::client::DEFAULT_API_URL)]
    pub slack_api_url: String,
    /// Most memory, in MiB, for visitors' state kept between commands (above all their
    /// conversations' transcripts, which grow with each message); the least recently used go
    /// first and are read again from the store when needed.
    #[arg(long, env = "PALAVER_CONVERSATION_CACHE_MB", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub conversation_cache_mb: u32,
}

impl ServeArgs {
    /// How to call Slack; fails when `--slack-api-url` is not an http(s) URL. A call may take
    /// as long as a webhook attempt (`--delivery-timeout`).
    pub fn slack(&self) -> anyhow::Result<SlackConfig> {
        check_api_url(&self.slack_api_url).map_err(|e| anyhow::anyhow!("--slack-api-url: {e}"))?;
        Ok(SlackConfig {
            api_url: self.slack_api_url.clone(),
            timeout: self.delivery_timeout,
        })
    }

    /// What the retention sweep purges.
    pub fn retention(&self) -> RetentionConfig {
        RetentionConfig {
            deliveries: self.retention,
            conversations: self.message_retention,
        }
    }

    /// `--conversation-cache-mb` in bytes.
    pub fn conversation_cache_bytes(&self) -> usize {
        (self.conversation_cache_mb as usize) << 20
    }

    /// The visitor API's limits: per address, and per site (100 times that unless set).
    pub fn visitor_limits(&self) -> (u32, u32) {
        let per_site = self
            .visitor_site_rate_limit
            .unwrap_or_else(|| self.visitor_rate_limit.saturating_mul(100));
        (self.visitor_rate_limit, per_site)
    }

    /// How to deliver; fails when `--ca-certs` cannot be read or holds no certificate.
    pub fn delivery(&self) -> anyhow::Result<DeliveryConfig> {
        let ca_certs = match &self.ca_certs {
            None => Vec::new(),
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    anyhow::anyhow!("cannot read --ca-certs {}: {e}", path.display())
                })?;
                let certs = CertificateDer::pem_slice_iter(&pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "--ca-certs {} is not PEM certificates: {e}",
                            path.display()
                        )
                    })?;
                if certs.is_empty() {
                    anyhow::bail!("--ca-certs {} holds no certificate", path.display());
                }
                certs
            }
        };
        Ok(DeliveryConfig {
            schedule: self.retry_schedule.clone().unwrap_or_default(),
            timeout: self.delivery_timeout,
            connect_timeout: self.delivery_timeout.min(Duration::from_secs(5)),
            allow_private: self.allow_private_destinations,
            concurrency: self.delivery_concurrency as usize,
            ca_certs,
            proxy: self
                .webhook_proxy
                .as_deref()
                .map(WebhookProxy::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--webhook-proxy: {e}"))?,
            health: HealthRules {
                disable_after: self.endpoint_disable_after,
                probe_interval: self.endpoint_probe_interval,
            },
        })
    }
}

/// A duration that is not zero.
fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!("{s:?} must be longer than zero")),
        d => Ok(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Cli, CommandLine};
    use clap::Parser;

    fn serve(args: &[&str]) -> ServeArgs {
        let mut argv = vec!["palaver", "serve"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).expect("parses").command {
            CommandLine::Serve(s) => *s,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn ca_certs_must_be_readable_pem_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = serve(&["--ca-certs", missing.to_str().unwrap()])
            .delivery()
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read --ca-certs"), "{err}");

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = serve(&["--ca-certs", empty.to_str().unwrap()])
            .delivery()
            .unwrap_err()
            .to_string();
        assert!(err.contains("--ca-certs"), "{err}");

        assert!(serve(&[]).delivery().unwrap().ca_certs.is_empty());
    }

    #[test]
    fn the_slack_api_url_defaults_to_slack_and_must_be_http() {
        assert_eq!(serve(&[]).slack().unwrap().api_url, "https://slack.com/api");
        let fake = serve(&["--slack-api-url", "http://127.0.0.1:9/api"]);
        assert_eq!(fake.slack().unwrap().api_url, "http://127.0.0.1:9/api");
        let err = serve(&["--slack-api-url", "slack.com"])
            .slack()
            .unwrap_err()
            .to_string();
        assert!(err.contains("--slack-api-url"), "{err}");
    }

    #[test]
    fn the_site_limit_follows_the_address_limit_unless_set() {
        assert_eq!(serve(&[]).visitor_limits(), (120, 12_000));
        assert_eq!(
            serve(&["--visitor-rate-limit", "5"]).visitor_limits(),
            (5, 500)
        );
        let off = ["--visitor-rate-limit", "0"];
        assert_eq!(serve(&off).visitor_limits(), (0, 0));
        let both = [&off[..], &["--visitor-site-rate-limit", "7"]].concat();
        assert_eq!(serve(&both).visitor_limits(), (0, 7));
    }

    #[test]
    fn deliveries_are_kept_thirty_days_and_conversations_until_asked() {
        let day = Duration::from_secs(86_400);
        let r = serve(&[]).retention();
        assert_eq!((r.deliveries.0, r.conversations.0), (Some(30 * day), None));
        let r = serve(&["--retention", "off", "--message-retention", "90d"]).retention();
        assert_eq!((r.deliveries.0, r.conversations.0), (None, Some(90 * day)));
        let err = Cli::try_parse_from(["palaver", "serve", "--retention", "30 days"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--retention") && err.contains("30d"), "{err}");
    }

    #[test]
    fn the_webhook_proxy_must_be_an_http_url() {
        let err = serve(&["--webhook-proxy", "https://proxy:3128"])
            .delivery()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--webhook-proxy") && err.contains("http://"),
            "{err}"
        );
        let proxy = serve(&["--webhook-proxy", "http://u:p@proxy:3128"])
            .delivery()
            .unwrap()
            .proxy
            .expect("a proxy");
        assert_eq!(proxy.uri.to_string(), "http://proxy:3128/");
        assert!(proxy.authorization.is_some());
        assert!(serve(&[]).delivery().unwrap().proxy.is_none());
    }
}
