//! Slack's rate limits as this process has met them. Slack limits each Web API method per
//! workspace on its own and says how long to wait (`429` with `Retry-After`); until then no call
//! of that method goes to that workspace from here: the deliveries that need it wait, without a
//! call, while those needing other methods go on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Limits {
    /// Until when each (team, method) is limited.
    until: Mutex<HashMap<(i64, String), Instant>>,
}

impl Limits {
    /// How much longer `method` is limited for the team's workspace, if it is.
    pub fn remaining(&self, team_seq: i64, method: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut until = self.until.lock().expect("limits poisoned");
        until.retain(|_, t| *t > now);
        until
            .get(&(team_seq, method.to_string()))
            .map(|t| t.duration_since(now))
    }

    /// Slack limited `method` for `after`.
    pub fn limited(&self, team_seq: i64, method: &str, after: Duration) {
        let end = Instant::now() + after;
        let mut until = self.until.lock().expect("limits poisoned");
        let t = until.entry((team_seq, method.to_string())).or_insert(end);
        *t = (*t).max(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_per_team_and_method_and_ends() {
        let limits = Limits::default();
        limits.limited(1, "chat.postMessage", Duration::from_secs(30));
        let left = limits.remaining(1, "chat.postMessage").unwrap();
        assert!(left > Duration::from_secs(29) && left <= Duration::from_secs(30));
        assert!(limits.remaining(1, "conversations.create").is_none());
        assert!(limits.remaining(2, "chat.postMessage").is_none());
        limits.limited(1, "chat.postMessage", Duration::from_secs(1));
        assert!(
            limits.remaining(1, "chat.postMessage").unwrap() > Duration::from_secs(29),
            "a shorter limit does not shorten a longer one"
        );
        limits.limited(3, "chat.postMessage", Duration::ZERO);
        assert!(limits.remaining(3, "chat.postMessage").is_none());
    }
}
