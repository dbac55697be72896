//! Keeps webhooks away from loopback, private, link-local and other non-public addresses, unless
//! allowed: checked when an endpoint is saved, and again on every connection (DNS can change).

use hyper_util::client::legacy::connect::dns::Name;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Whether a webhook may be sent to `ip`.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(s[..6] == [0; 6] // ::/96: unspecified, loopback, and the deprecated IPv4-compatible ::a.b.c.d
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routed by some networks)
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x64 && s[1] == 0xff9b)) // NAT64 may reach anything
}

/// Why a URL cannot be a webhook destination, if it cannot.
pub fn check_url(url: &str, allow_private: bool) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`url` is not a valid URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "`url` must be http or https, not {}",
            parsed.scheme()
        ));
    }
    let Some(host) = parsed.host_str() else {
        return Err("`url` has no host".into());
    };
    if !allow_private {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let private = match host.parse::<IpAddr>() {
            Ok(ip) => !is_public(ip),
            Err(_) => host == "localhost" || host.ends_with(".localhost"),
        };
        if private {
            return Err(format!(
                "{host} is not a public address; start Palaver with --allow-private-destinations \
                 (PALAVER_ALLOW_PRIVATE_DESTINATIONS=1) to send webhooks there"
            ));
        }
    }
    Ok(parsed)
}

/// A resolver that drops non-public addresses (unless allowed). IP literals never reach it:
/// [`check_url`] has judged those.
#[derive(Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

type Resolved = Result<std::vec::IntoIter<SocketAddr>, Box<dyn std::error::Error + Send + Sync>>;

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Pin<Box<dyn Future<Output = Resolved> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow = self.allow_private;
        Box::pin(async move {
            let host = name.as_str();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
            let ok: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| allow || is_public(a.ip()))
                .collect();
            if ok.is_empty() && !all.is_empty() {
                return Err(format!(
                    "{host} resolves only to non-public addresses; start Palaver with \
                     --allow-private-destinations to send webhooks there"
                )
                .into());
            }
            Ok(ok.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "172.32.0.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn ipv4_compatible_and_site_local_ipv6_are_refused() {
        // Found by fuzzing: `http://[::ffff:1271]/` (::255.255.18.113, IPv4-compatible, not
        // IPv4-mapped) was taken for a public address.
        for ip in [
            "::ffff:1271",
            "::127.0.0.1",
            "::10.0.0.1",
            "::8.8.8.8",
            "fec0::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(check_url("http://[::ffff:1271]/x", false).is_err());
        assert!(check_url("http://[::127.0.0.1]/x", false).is_err());
        assert!(check_url("http://[::ffff:808:808]/x", false).is_ok()); // mapped 8.8.8.8
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://example.com/hook", false).is_ok());
        assert!(
            check_url("http://127.0.0.1:9/x", false)
                .unwrap_err()
                .contains("allow-private")
        );
        assert!(check_url("http://localhost/x", false).is_err());
        assert!(check_url("http://[::1]/x", false).is_err());
        assert!(check_url("http://127.0.0.1:9/x", true).is_ok());
        assert!(
            check_url("ftp://example.com/", true)
                .unwrap_err()
                .contains("http")
        );
        assert!(check_url("not a url", true).is_err());
    }

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused_unless_allowed() {
        use std::str::FromStr;
        use tower_service::Service;
        let name = Name::from_str("localhost").unwrap();
        let refused = GuardedResolver {
            allow_private: false,
        }
        .call(name.clone())
        .await
        .expect_err("localhost is refused");
        assert!(refused.to_string().contains("non-public"), "{refused}");
        let allowed: Vec<SocketAddr> = GuardedResolver {
            allow_private: true,
        }
        .call(name)
        .await
        .expect("allowed")
        .collect();
        assert!(allowed.iter().all(|a| a.ip().is_loopback()) && !allowed.is_empty());
    }
}
