//! What webhooks depend on: the retry schedule and durations (flags and environment), Standard
//! Webhooks signatures as `palaver listen` checks them, and the destination guard.

use super::{choice, texts};
use crate::delivery::guard::{check_url, is_public};
use crate::delivery::retry_after;
use crate::delivery::schedule::{RetrySchedule, parse_duration};
use crate::delivery::sign::{TOLERANCE_SECS, header, parse_secret, sign, verify};
use crate::domain::Millis;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

/// A retry schedule (`5s,5m,…`), also read as one duration: what parses renders back to itself,
/// and every delay, jittered, is a time the worker can schedule.
pub fn retry_schedule(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok(schedule) = RetrySchedule::parse(&s) {
        let rendered: Vec<String> = schedule
            .0
            .iter()
            .map(|d| format!("{}ms", d.as_millis()))
            .collect();
        assert_eq!(
            RetrySchedule::parse(&rendered.join(",")),
            Ok(schedule.clone())
        );
        for tries in -1..=schedule.0.len() as i64 + 1 {
            match schedule.delay_after(tries) {
                Some(d) => {
                    let base = schedule.0[(tries - 1) as usize];
                    assert!(d >= base.mul_f64(0.79) && d <= base.mul_f64(1.21));
                    schedulable(d);
                }
                None => assert!(tries < 1 || tries as usize > schedule.0.len()),
            }
            if let Some(d) = schedule.delay_after_timeout(tries) {
                schedulable(d);
            }
        }
    }
    let _ = crate::retention::Retention::parse(&s);
    if let Ok(d) = parse_duration(&s) {
        assert_eq!(parse_duration(&format!("{}ms", d.as_millis())), Ok(d));
        assert_eq!(RetrySchedule::parse(&s), Ok(RetrySchedule(vec![d])));
        schedulable(d);
    }
}

/// A wait the worker can turn into a time: whole milliseconds that fit the clock.
fn schedulable(d: Duration) {
    let ms = i64::try_from(d.as_millis()).expect("milliseconds fit an i64");
    let _ = Millis::now().plus_ms(ms);
}

/// A receiver's `Retry-After` (delta-seconds or an HTTP date; the first byte moves the clock):
/// every wait is within 1 s..1 h and fits the clock's milliseconds, a number waits what it says
/// (within the range), and a date waits until it comes.
pub fn webhook_retry_after(data: &[u8]) {
    let (which, rest) = choice(data);
    let value = String::from_utf8_lossy(rest);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + u64::from(which) * 997);
    let Some(wait) = retry_after::parse(&value, now) else {
        return;
    };
    assert!(
        (retry_after::MIN..=retry_after::MAX).contains(&wait),
        "{wait:?}"
    );
    schedulable(wait);
    let t = value.trim();
    if t.bytes().all(|b| b.is_ascii_digit()) {
        let secs = t.parse::<u64>().unwrap_or(u64::MAX);
        let want = Duration::from_secs(secs).clamp(retry_after::MIN, retry_after::MAX);
        assert_eq!(wait, want, "{t:?}");
    } else {
        let at = httpdate::parse_http_date(t).expect("a date");
        let until = at.duration_since(now).unwrap_or_default();
        assert_eq!(
            wait,
            until.clamp(retry_after::MIN, retry_after::MAX),
            "{t:?}"
        );
        // The same instant written in the preferred form reads the same.
        let again = retry_after::parse(&httpdate::fmt_http_date(at), now);
        assert_eq!(again, Some(wait), "{t:?}");
    }
}

/// Secrets (space-separated), `webhook-id`, `webhook-timestamp`, `webhook-signature`, the body
/// and the receiver's clock (unix seconds), cut at `0xFF` bytes: nothing panics, a delivery that
/// verifies was signed with one of the secrets at a time within the tolerance, and what Palaver
/// signs verifies.
pub fn webhook_verify(data: &[u8]) {
    let t = texts(data, 6);
    let secrets: Vec<String> = t[0].split(' ').map(str::to_owned).collect();
    let (id, timestamp, signature, body) = (&t[1], &t[2], &t[3], t[4].as_bytes());
    let now: i64 = t[5].trim().parse().unwrap_or(1_700_000_000);
    if verify(&secrets, id, timestamp, signature, body, now).is_ok() {
        let at: i64 = timestamp
            .trim()
            .parse()
            .expect("a verified timestamp is a number");
        assert!(at.abs_diff(now) <= TOLERANCE_SECS as u64);
        let signed = secrets.iter().any(|s| {
            let mine = sign(s, id, at, body);
            signature.split(' ').any(|given| given == mine)
        });
        assert!(signed, "{signature:?}");
    }
    let signed = header(&secrets, id, now, body);
    assert_eq!(
        verify(&secrets, id, &now.to_string(), &signed, body, now),
        Ok(())
    );
    for secret in &secrets {
        if let Ok(key) = parse_secret(secret) {
            assert!(!key.is_empty() && secret.trim().starts_with("whsec_"));
            let one = [secret.trim().to_owned()];
            let signed = header(&one, id, now, body);
            assert_eq!(
                verify(&one, id, &now.to_string(), &signed, body, now),
                Ok(())
            );
        }
    }
}

/// A webhook URL as the API and the worker check it.
pub fn destination(data: &[u8]) {
    check_destination(&String::from_utf8_lossy(data));
    // The first byte chooses an address among a few prefixes of special ranges.
    let (which, rest) = choice(data);
    let mut octets = [0u8; 16];
    for (o, b) in octets.iter_mut().zip(rest) {
        *o = *b;
    }
    let ip: IpAddr = if which % 2 == 0 {
        IpAddr::from([octets[0], octets[1], octets[2], octets[3]])
    } else {
        IpAddr::from(octets)
    };
    assert_eq!(is_public(ip), public_by_table(ip), "{ip}");
}

/// `url` as a webhook destination: accepted without private destinations means accepted with
/// them; an accepted URL is http(s), has a host, names no non-public address literally, and is
/// accepted again as it is stored.
pub(super) fn check_destination(url: &str) {
    let strict = check_url(url, false);
    let lenient = check_url(url, true);
    if let Ok(u) = &strict {
        assert_eq!(lenient.as_ref().ok(), Some(u));
    }
    if let Ok(u) = &lenient {
        assert!(matches!(u.scheme(), "http" | "https"));
        let host = u.host().expect("an accepted URL has a host");
        if strict.is_ok() {
            match host {
                url::Host::Ipv4(ip) => assert!(public_by_table(ip.into()), "{url}"),
                url::Host::Ipv6(ip) => assert!(public_by_table(ip.into()), "{url}"),
                url::Host::Domain(d) => {
                    assert!(d != "localhost" && !d.ends_with(".localhost"), "{url}")
                }
            }
        }
        let again = check_url(u.as_str(), true).expect("a stored URL is accepted again");
        assert_eq!(&again, u);
        assert_eq!(
            check_url(u.as_str(), false).is_ok(),
            strict.is_ok(),
            "{url}"
        );
    }
}

/// Whether `ip` is public, by the IANA special-purpose registries (IPv4 and IPv6) rather than
/// by the standard library's predicates.
fn public_by_table(ip: IpAddr) -> bool {
    const V4: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),
        ([10, 0, 0, 0], 8),
        ([100, 64, 0, 0], 10),
        ([127, 0, 0, 0], 8),
        ([169, 254, 0, 0], 16),
        ([172, 16, 0, 0], 12),
        ([192, 0, 0, 0], 24),
        ([192, 0, 2, 0], 24),
        ([192, 168, 0, 0], 16),
        ([198, 18, 0, 0], 15),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        ([224, 0, 0, 0], 4),
        ([240, 0, 0, 0], 4),
    ];
    const V6: &[(u128, u32)] = &[
        (0, 96),                 // ::, ::1 and the IPv4-compatible ::a.b.c.d
        (0x0064_ff9b << 96, 32), // NAT64, well-known /96 and local-use /48: the guard takes all
        (0x2001_0db8 << 96, 32), // documentation
        (0xfc00 << 112, 7),      // unique local
        (0xfe80 << 112, 10),     // link-local
        (0xfec0 << 112, 10),     // site-local (deprecated, still routed)
        (0xff00 << 112, 8),      // multicast
    ];
    let within = |addr: u128, (net, len): (u128, u32), bits: u32| {
        let shift = bits - len;
        (addr >> shift) == (net >> shift)
    };
    match ip {
        IpAddr::V4(v4) => {
            let a = u128::from(u32::from(v4));
            !V4.iter()
                .any(|(net, len)| within(a, (u128::from(u32::from_be_bytes(*net)), *len), 32))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_by_table(v4.into()),
            None => !V6.iter().any(|r| within(u128::from(v6), *r, 128)),
        },
    }
}
