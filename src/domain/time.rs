//! Time as unix milliseconds, rendered the Talkus way: `2016-01-09T11:09:09.111Z`.

use chrono::{DateTime, SecondsFormat, Utc};

/// Milliseconds since the unix epoch, UTC. Stored as an integer; rendered with [`Millis::iso`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub i64);

impl Millis {
    /// The current time.
    pub fn now() -> Self {
        Millis(Utc::now().timestamp_millis())
    }

    /// ISO-8601, UTC, milliseconds, `Z`.
    pub fn iso(self) -> String {
        DateTime::<Utc>::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// Parses an RFC 3339 time (any offset) into milliseconds.
    pub fn parse(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Millis(t.timestamp_millis()))
    }

    /// This time plus `ms` milliseconds.
    pub fn plus_ms(self, ms: i64) -> Self {
        Millis(self.0.saturating_add(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_the_seed() {
        let t = Millis::parse("2016-01-09T11:09:09.111Z").unwrap();
        assert_eq!(t.iso(), "2016-01-09T11:09:09.111Z");
        assert_eq!(Millis(0).iso(), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn parses_offsets() {
        let t = Millis::parse("2016-01-09T12:09:09.111+01:00").unwrap();
        assert_eq!(t.iso(), "2016-01-09T11:09:09.111Z");
        assert!(Millis::parse("yesterday").is_none());
    }
}
