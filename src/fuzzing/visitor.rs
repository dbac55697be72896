//! What visitors' browsers send: the identity, the team's widget settings (origins), the client
//! address behind proxies, cookies.

use super::{choice, parts, texts};
use crate::chat::IdentityInput;
use crate::domain::identity::{Field, check, clip};
use crate::domain::net::client_ip as client_of;
use crate::domain::session::{cookie as cookie_of, same_secret};
use crate::domain::widget::{
    MAX_GREETING, MAX_ORIGINS, MAX_TITLE, WidgetPatch, WidgetSettings, is_own_origin,
    normalize_origin, origin_allowed,
};
use crate::domain::{email, widget};
use std::net::IpAddr;

/// One identity field (chosen by the first byte) and a value.
pub fn identity(data: &[u8]) {
    let (which, rest) = choice(data);
    let field = Field::ALL[usize::from(which) % Field::ALL.len()];
    let value = String::from_utf8_lossy(rest);
    match check(field, &value) {
        Ok(()) => field_holds(field, &value),
        Err(why) => {
            let name = format!("`identity.{}`", field.as_str());
            assert!(why.starts_with(&name), "{why}");
        }
    }
    let max = usize::from(which);
    let cut = clip(&value, max);
    assert!(value.starts_with(cut) && cut.chars().count() == value.chars().count().min(max));
}

/// What an accepted identity field is, said again without the checker's code.
fn field_holds(field: Field, value: &str) {
    if value.is_empty() {
        return;
    }
    assert!(value.chars().count() <= field.max_chars(), "{field:?}");
    assert!(!value.chars().any(char::is_control), "{field:?} {value:?}");
    match field {
        Field::Email => assert!(email::is_valid(value)),
        Field::Picture | Field::Location => {
            let url = url::Url::parse(value).expect("an accepted URL parses");
            assert!(matches!(url.scheme(), "http" | "https"), "{value:?}");
            assert!(url.host().is_some(), "{value:?}");
        }
        Field::Phone => {
            let digits = value.bytes().filter(u8::is_ascii_digit).count();
            assert!(digits >= 3, "{value:?}");
            assert!(
                value
                    .bytes()
                    .all(|b| b" +-().".contains(&b) || b.is_ascii_digit())
            );
        }
        _ => {}
    }
}

/// Every field of an identity the chat accepted holds.
pub(super) fn identity_holds(i: &IdentityInput) {
    let fields = [
        (Field::Name, &i.name),
        (Field::Phone, &i.phone),
        (Field::Email, &i.email),
        (Field::Picture, &i.picture),
        (Field::Title, &i.title),
        (Field::Location, &i.location),
        (Field::Languages, &i.languages),
    ];
    for (field, value) in fields {
        field_holds(field, value);
    }
}

/// A widget settings patch (JSON) applied to the defaults, and an origin and a `Host` header
/// (after `0xFF` bytes): accepted settings hold, are unchanged by being applied again, and let
/// in each origin they list.
pub fn widget_settings(data: &[u8]) {
    let [patch, origin, host] = parts(data, 3)[..] else {
        unreachable!()
    };
    if let Ok(patch) = serde_json::from_slice::<WidgetPatch>(patch) {
        match WidgetSettings::default().apply(patch) {
            Ok(settings) => settings_hold(&settings),
            Err(e) => assert!(!e.message.is_empty()),
        }
    }
    // Stored settings are read leniently: anything JSON is some settings.
    let _ = serde_json::from_slice::<WidgetSettings>(patch);
    let (origin, host) = (
        String::from_utf8_lossy(origin),
        String::from_utf8_lossy(host),
    );
    if let Ok(normal) = normalize_origin(&origin) {
        assert_eq!(normalize_origin(&normal).as_deref(), Ok(normal.as_str()));
        let only = WidgetSettings {
            allowed_origins: vec![normal.clone()],
            ..WidgetSettings::default()
        };
        assert!(origin_allowed(&only, &origin) && origin_allowed(&only, &normal));
        let authority = normal.split_once("://").expect("scheme://").1;
        assert!(is_own_origin(&normal, authority), "{normal}");
    }
    let _ = is_own_origin(&origin, &host);
}

/// What accepted settings are; applying them again changes nothing.
pub(super) fn settings_hold(s: &WidgetSettings) {
    let title = s.title.chars().count();
    assert!((1..=MAX_TITLE).contains(&title) && s.title.trim() == s.title);
    assert!(s.greeting.chars().count() <= MAX_GREETING && s.greeting.trim() == s.greeting);
    let hex = s.color.strip_prefix('#').expect("#colour");
    assert!(matches!(hex.len(), 3 | 6));
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert!(s.allowed_origins.len() <= MAX_ORIGINS);
    for (i, o) in s.allowed_origins.iter().enumerate() {
        assert_eq!(normalize_origin(o).as_deref(), Ok(o.as_str()));
        assert!(!s.allowed_origins[..i].contains(o), "duplicate {o}");
    }
    let again = WidgetPatch {
        title: Some(s.title.clone()),
        greeting: Some(s.greeting.clone()),
        color: Some(s.color.clone()),
        position: Some(
            match s.position {
                widget::Position::Right => "right",
                widget::Position::Left => "left",
            }
            .into(),
        ),
        allowed_origins: Some(s.allowed_origins.clone()),
    };
    assert_eq!(WidgetSettings::default().apply(again).as_ref(), Ok(s));
}

/// The peer, the trusted proxies (comma-separated) and `X-Forwarded-For` values (one per
/// further part): the client is the peer unless the peer is trusted, and then the nearest
/// forwarded address that is not a trusted proxy, or the peer.
pub fn client_ip(data: &[u8]) {
    let t = texts(data, 6);
    let peer: IpAddr = t[0].trim().parse().unwrap_or([10, 0, 0, 1].into());
    let trusted: Vec<IpAddr> = t[1]
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let headers: Vec<&str> = t[2..].iter().map(String::as_str).collect();
    let got = client_of(peer, headers.iter().copied(), &trusted);
    // The same rule, walked by hand from the nearest hop.
    let mut want = peer;
    if trusted.contains(&peer) {
        for hop in headers.iter().rev().flat_map(|h| h.rsplit(',')) {
            if let Ok(ip) = hop.trim().parse::<IpAddr>()
                && !trusted.contains(&ip)
            {
                want = ip;
                break;
            }
        }
    }
    assert_eq!(got, want);
}

/// A `Cookie` header and a name, and two tokens: a cookie found is one of the header's pairs,
/// and secrets compare equal exactly when they are.
pub fn cookie(data: &[u8]) {
    let t = texts(data, 4);
    let (header, name) = (&t[0], &t[1]);
    if let Some(v) = cookie_of(header, name) {
        let found = header.split(';').any(|pair| {
            pair.trim()
                .split_once('=')
                .is_some_and(|(k, raw)| k == name && raw.trim_matches('"') == v)
        });
        assert!(found, "{header:?} {name:?} {v:?}");
    }
    assert_eq!(same_secret(&t[2], &t[3]), t[2] == t[3]);
    assert!(same_secret(&t[2], &t[2]));
}
