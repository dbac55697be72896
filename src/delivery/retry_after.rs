//! A receiver's `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP date, and the range
//! Palaver honours it in.

use std::time::{Duration, SystemTime};

/// The shortest wait a `Retry-After` gets: `0`, a date already past or a fraction rounds up to it.
pub const MIN: Duration = Duration::from_secs(1);
/// The longest: a receiver cannot park an endpoint for more than an hour with one answer.
pub const MAX: Duration = Duration::from_secs(3600);

/// How long `value` asks to wait, as of `now`, within [`MIN`]..=[`MAX`]; `None` when it is
/// neither delta-seconds nor an HTTP date (the answer is then treated as if it had none).
pub fn parse(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let asked = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Any run of digits is a valid delta; one too long for a u64 is simply "very long".
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(clamp(asked))
}

/// `d` within [`MIN`]..=[`MAX`].
pub fn clamp(d: Duration) -> Duration {
    d.clamp(MIN, MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str) -> SystemTime {
        httpdate::parse_http_date(date).unwrap()
    }

    #[test]
    fn delta_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse("2", now), Some(Duration::from_secs(2)));
        assert_eq!(parse(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(parse("0", now), Some(MIN), "0 waits the minimum");
        assert_eq!(parse("3600", now), Some(MAX));
        assert_eq!(parse("3601", now), Some(MAX), "clamped to an hour");
        assert_eq!(parse("99999999999999999999999", now), Some(MAX));
    }

    #[test]
    fn http_dates_in_every_form_rfc_9110_accepts() {
        let now = at("Wed, 21 Oct 2015 07:28:00 GMT");
        let in_90 = Some(Duration::from_secs(90));
        assert_eq!(parse("Wed, 21 Oct 2015 07:29:30 GMT", now), in_90);
        assert_eq!(parse("Wednesday, 21-Oct-15 07:29:30 GMT", now), in_90);
        assert_eq!(parse("Wed Oct 21 07:29:30 2015", now), in_90);
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(MIN),
            "a date already past waits the minimum"
        );
        assert_eq!(
            parse("Thu, 22 Oct 2015 07:28:00 GMT", now),
            Some(MAX),
            "a day away is clamped to an hour"
        );
    }

    #[test]
    fn anything_else_is_no_retry_after() {
        let now = SystemTime::now();
        for bad in [
            "",
            " ",
            "-5",
            "1.5",
            "soon",
            "2 s",
            "+3",
            "Wed, 32 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn clamp_keeps_the_range() {
        assert_eq!(clamp(Duration::ZERO), MIN);
        assert_eq!(
            clamp(Duration::from_millis(1500)),
            Duration::from_millis(1500)
        );
        assert_eq!(clamp(Duration::from_secs(86_400)), MAX);
    }
}
