//! Console sessions: the names the browser and the server agree on, and the rules of a session's
//! life. Pure: the store keeps sessions, `api` and `web` check them.

use super::Millis;

/// The session cookie: an opaque token (`ps_…`) whose hash keys the stored session.
pub const SESSION_COOKIE: &str = "palaver_session";

/// Where a state-changing `fetch` of the console sends the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The default idle time after which a session ends.
pub const DEFAULT_IDLE: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

/// A session's last use is recorded again only when older than this (or than a quarter of the
/// idle time, when that is shorter): not a write per request.
pub const TOUCH_EVERY_MS: i64 = 60_000;

/// Whether a session last used at `last_seen` is still alive at `now`.
pub fn alive(last_seen: Millis, now: Millis, idle: std::time::Duration) -> bool {
    let idle_ms = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
    now.0.saturating_sub(last_seen.0) < idle_ms
}

/// Whether the session's last use should be recorded again: often enough that a session in
/// use never looks idle, however short the idle time.
pub fn due_for_touch(last_seen: Millis, now: Millis, idle: std::time::Duration) -> bool {
    let quarter = i64::try_from(idle.as_millis() / 4).unwrap_or(i64::MAX);
    now.0.saturating_sub(last_seen.0) >= TOUCH_EVERY_MS.min(quarter)
}

/// Compares a presented token with the expected one in time that does not depend on where they
/// differ (a CSRF token, an API key's hash).
pub fn same_secret(presented: &str, expected: &str) -> bool {
    let (a, b) = (presented.as_bytes(), expected.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sessions_end_after_the_idle_time() {
        let idle = Duration::from_secs(60);
        assert!(alive(Millis(0), Millis(59_999), idle));
        assert!(!alive(Millis(0), Millis(60_000), idle));
    }

    #[test]
    fn touches_are_spaced() {
        let idle = Duration::from_secs(12 * 3600);
        assert!(!due_for_touch(Millis(0), Millis(59_999), idle));
        assert!(due_for_touch(Millis(0), Millis(60_000), idle));
        // A short idle time is touched within it: a session in use stays alive.
        let short = Duration::from_secs(2);
        assert!(!due_for_touch(Millis(0), Millis(499), short));
        assert!(due_for_touch(Millis(0), Millis(500), short));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("ab", "abc"));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = "a=1; palaver_session=ps_x; palaver_sessionx=2";
        assert_eq!(cookie(h, SESSION_COOKIE), Some("ps_x"));
        assert_eq!(cookie(h, "b"), None);
        assert_eq!(cookie("palaver_sessionx=2", SESSION_COOKIE), None);
    }
}
