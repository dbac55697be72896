//! Web origins (`scheme://host[:port]`): reading one as a website owner writes it, and telling
//! whether a request comes from a page of the server's own origin.

use url::Url;

/// The origin `given` names, as browsers send it in `Origin`: lowercase, no default port, no
/// trailing slash. Only http(s) origins, without path, query, credentials or wildcard.
pub fn normalize_origin(given: &str) -> Result<String, &'static str> {
    let given = given.trim();
    if given.contains('*') {
        return Err("wildcards are not supported; list each origin");
    }
    let url = Url::parse(given)
        .map_err(|_| "write it as scheme://host[:port], like \"https://www.example.com\"")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http:// and https:// origins are supported");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("an origin has no user name or password");
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("an origin has no path, query or fragment: only scheme://host[:port]");
    }
    Ok(url.origin().ascii_serialization())
}

/// Whether `origin` (an `Origin` header) is the origin of the server the request reached,
/// whose `host` (the `Host` header, `host[:port]`) it names: pages served by Palaver itself.
pub fn is_own_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    if authority.eq_ignore_ascii_case(host) {
        return matches!(scheme, "http" | "https");
    }
    // Spelled differently (a default port written out on one side): compare parsed.
    let (Ok(o), Ok(h)) = (
        normalize_origin(origin),
        normalize_origin(&format!("{scheme}://{host}")),
    ) else {
        return false;
    };
    o == h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_as_browsers_send_them() {
        let cases = [
            ("https://www.Example.com", "https://www.example.com"),
            ("HTTPS://WWW.EXAMPLE.COM/", "https://www.example.com"),
            ("https://example.com:443", "https://example.com"),
            ("http://example.com:80/", "http://example.com"),
            ("http://example.com:8080", "http://example.com:8080"),
            ("https://example.com:80", "https://example.com:80"),
            ("  http://127.0.0.1:3000 ", "http://127.0.0.1:3000"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
        ];
        for (given, want) in cases {
            assert_eq!(normalize_origin(given).as_deref(), Ok(want), "{given}");
        }
    }

    #[test]
    fn what_is_not_an_origin_is_refused_with_a_reason() {
        let cases = [
            ("example.com", "scheme://host"),
            ("", "scheme://host"),
            ("ftp://example.com", "http"),
            ("file:///etc/passwd", "http"),
            ("https://user:pw@example.com", "password"),
            ("https://user@example.com", "password"),
            ("https://example.com/shop", "path"),
            ("https://example.com/?a=1", "query"),
            ("https://example.com#top", "fragment"),
            ("https://*.example.com", "wildcard"),
            ("*", "wildcard"),
            ("null", "scheme://host"),
        ];
        for (given, reason) in cases {
            let why = normalize_origin(given).expect_err(given);
            assert!(why.contains(reason), "{given}: {why}");
        }
    }

    #[test]
    fn the_servers_own_origin_is_recognized_from_the_host_header() {
        assert!(is_own_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(is_own_origin(
            "https://chat.example.com",
            "Chat.Example.com"
        ));
        assert!(is_own_origin(
            "https://chat.example.com",
            "chat.example.com:443"
        ));
        assert!(is_own_origin(
            "http://chat.example.com:80",
            "chat.example.com"
        ));
        assert!(!is_own_origin("http://127.0.0.1:8081", "127.0.0.1:8080"));
        assert!(!is_own_origin("https://evil.example", "chat.example.com"));
        assert!(!is_own_origin("null", "chat.example.com"));
        assert!(!is_own_origin("ftp://chat.example.com", "chat.example.com"));
        assert!(!is_own_origin(
            "https://chat.example.com",
            "chat.example.com/x"
        ));
        assert!(!is_own_origin("https://chat.example.com", ""));
    }
}
