//! `palaver listen`: a local webhook receiver for developers writing their own. It checks each
//! delivery's Standard Webhooks signature and timestamp ([`crate::delivery::sign::verify`]),
//! answers 401 saying why when they fail, prints each event readably (or the raw body with
//! `--json`) and, with `--forward-to`, passes the exact bytes and headers on to the developer's
//! receiver and its answer back to Palaver, so that Palaver's retries work through it.

mod forward;
mod show;

use crate::delivery::sign;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Args;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// The largest body taken: far above what 100 events with long transcripts make.
const MAX_BODY: usize = 64 << 20;

/// `palaver listen`'s flags.
#[derive(Args, Debug, Clone)]
pub struct ListenArgs {
    /// The webhook's signing secret, `whsec_…` (POST /api/v1/webhooks answers it). Give it
    /// twice to accept either of two secrets. Read from PALAVER_WEBHOOK_SECRET when not given
    /// (comma-separated), which keeps it out of the process list.
    #[arg(
        long,
        env = "PALAVER_WEBHOOK_SECRET",
        value_delimiter = ',',
        required = true
    )]
    pub secret: Vec<String>,
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// The address to listen on; another machine (a Palaver server elsewhere) needs 0.0.0.0.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Pass each verified delivery on to this URL (your receiver): the same bytes and headers,
    /// its status and body answered back to Palaver; 502 when it does not answer.
    #[arg(long, value_name = "URL")]
    pub forward_to: Option<String>,
    /// Print each delivery's body as it came, one line each, instead of a readable summary
    /// (everything else then goes to stderr, so stdout can be piped to jq).
    #[arg(long)]
    pub json: bool,
}

/// Where lines go: the readable mode prints everything on stdout; `--json` keeps stdout for
/// the bodies and says everything else on stderr.
#[derive(Clone, Copy)]
struct Out {
    json: bool,
}

impl Out {
    /// A line about what happened (start, refusals, forwarding).
    fn note(&self, line: &str) {
        if self.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}

/// What the handler shares.
struct Listener {
    secrets: Vec<String>,
    forward: Option<forward::Forwarder>,
    out: Out,
}

/// Checks the flags, binds, prints where it listens and how to point a webhook at it, then
/// serves until `stop` resolves.
pub async fn run(
    args: ListenArgs,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut secrets = Vec::new();
    for s in args
        .secret
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        sign::parse_secret(s).map_err(|e| anyhow::anyhow!("--secret: {e}"))?;
        secrets.push(s.to_owned());
    }
    if secrets.is_empty() {
        anyhow::bail!("--secret: give the webhook's signing secret, whsec_…");
    }
    let forward = match &args.forward_to {
        Some(url) => Some(forward::Forwarder::new(url)?),
        None => None,
    };
    let address = SocketAddr::new(args.host, args.port);
    let tcp = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
    let address = tcp.local_addr()?;
    let out = Out { json: args.json };
    banner(out, address, &secrets, forward.as_ref());
    let listener = Arc::new(Listener {
        secrets,
        forward,
        out,
    });
    let app = Router::new()
        .fallback(receive)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(listener);
    axum::serve(tcp, app).with_graceful_shutdown(stop).await?;
    out.note("stopped");
    Ok(())
}

fn banner(out: Out, address: SocketAddr, secrets: &[String], forward: Option<&forward::Forwarder>) {
    let url = format!("http://{address}/");
    out.note(&format!("listening on http://{address}"));
    let which: Vec<String> = secrets.iter().map(|s| sign::abbreviate(s)).collect();
    out.note(&format!(
        "Verifying Standard Webhooks signatures made with {} and timestamps within {} s.",
        which.join(" or "),
        sign::TOLERANCE_SECS
    ));
    if let Some(f) = forward {
        out.note(&format!(
            "Forwarding each verified delivery to {}; its answer goes back to Palaver.",
            f.url()
        ));
    }
    out.note(&format!(
        "Point the webhook whose secret this is at {url} (palaver serve needs \
         --allow-private-destinations to deliver to this machine):\n  \
         curl -X PATCH \"$PALAVER_URL/api/v1/webhooks/$WEBHOOK_ID\" \
         -H \"Authorization: Bearer $PALAVER_API_KEY\" \
         -H 'Content-Type: application/json' -d '{{\"url\": \"{url}\"}}'\n\
         then POST /api/v1/webhooks/$WEBHOOK_ID/test sends a sample event. Ctrl-C stops."
    ));
}

/// Any path: a delivery is a POST with the three Standard Webhooks headers.
async fn receive(
    State(l): State<Arc<Listener>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        let why = format!("{method} refused: palaver listen takes webhook deliveries, POSTed");
        l.out.note(&format!("x 405 {why}"));
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            why,
        )
            .into_response();
    }
    let id = text(&headers, "webhook-id").unwrap_or_default();
    if let Err(why) = check(&l.secrets, &headers, &body) {
        l.out.note(&format!(
            "x 401 refused delivery {}: {why}",
            if id.is_empty() {
                "without webhook-id"
            } else {
                &id
            }
        ));
        return (StatusCode::UNAUTHORIZED, format!("palaver listen: {why}\n")).into_response();
    }
    if l.out.json {
        println!("{}", String::from_utf8_lossy(&body));
    } else {
        println!("\n{}", show::delivery(&id, &body));
    }
    match &l.forward {
        None => (StatusCode::OK, "verified by palaver listen\n").into_response(),
        Some(f) => f.pass(&headers, body, l.out).await,
    }
}

/// Headers present and the signature good, or why not.
fn check(secrets: &[String], headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let get = |name: &str| text(headers, name).ok_or_else(|| format!("no {name} header"));
    let id = get("webhook-id")?;
    let timestamp = get("webhook-timestamp")?;
    let signature = get("webhook-signature")?;
    let now = chrono::Utc::now().timestamp();
    sign::verify(secrets, &id, &timestamp, &signature, body, now).map_err(|e| e.to_string())
}

/// A header's value as text, if present and not empty.
fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}
