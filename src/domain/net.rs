//! Who is at the other end: the client's address behind trusted proxies.

use std::net::IpAddr;

/// The client's address: the peer, or behind a trusted proxy the nearest address in
/// `X-Forwarded-For` (its values in order) that is not a trusted proxy.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = forwarded_for
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use std::net::IpAddr;

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let header = ["203.0.113.9, 10.0.0.2"];
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let trusted = vec![proxy, "10.0.0.2".parse().unwrap()];
        let ip = client_ip(proxy, header.into_iter(), &trusted);
        assert_eq!(ip.to_string(), "203.0.113.9");
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(client_ip(stranger, header.into_iter(), &trusted), stranger);
    }
}
