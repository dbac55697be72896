//! What a visitor's identity may hold: each field capped, the email an address, the page and the
//! picture http(s) URLs, the phone a plausible number. A value refused here is never stored.
//! Lengths are in characters (Unicode scalar values); an empty field is always accepted (it keeps
//! the stored value).

use super::email;

/// `name` and `title` of the page: generous for people's names and page titles.
pub const MAX_NAME: usize = 200;
pub const MAX_TITLE: usize = 500;
/// `phone`: room for a country code, spaces and an extension's digits.
pub const MAX_PHONE: usize = 50;
/// `location` (the page's URL) and `picture`: browsers and servers commonly handle 2,048.
pub const MAX_URL: usize = 2048;
/// `languages`: a comma-separated list of language tags.
pub const MAX_LANGUAGES: usize = 200;
/// The `User-Agent` the server records (cut, never refused: the browser chose it).
pub const MAX_USER_AGENT: usize = 512;
/// Digits a phone number must have at least.
const MIN_PHONE_DIGITS: usize = 3;

/// The identity fields a caller may send, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Name,
    Phone,
    Email,
    Picture,
    Title,
    Location,
    Languages,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::Name,
        Field::Phone,
        Field::Email,
        Field::Picture,
        Field::Title,
        Field::Location,
        Field::Languages,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Picture => "picture",
            Field::Title => "title",
            Field::Location => "location",
            Field::Languages => "languages",
        }
    }

    /// The most characters the field may have.
    pub fn max_chars(self) -> usize {
        match self {
            Field::Name => MAX_NAME,
            Field::Phone => MAX_PHONE,
            Field::Email => 254,
            Field::Picture | Field::Location => MAX_URL,
            Field::Title => MAX_TITLE,
            Field::Languages => MAX_LANGUAGES,
        }
    }
}

/// Whether `value` may be stored as `field`; the refusal names `identity.<field>` in backquotes.
pub fn check(field: Field, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    let name = format!("`identity.{}`", field.as_str());
    let max = field.max_chars();
    let n = value.chars().count();
    if n > max {
        return Err(format!("{name} is {n} characters long; the limit is {max}"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{name} must not hold control characters"));
    }
    match field {
        Field::Email if !email::is_valid(value) => {
            Err(format!("{name} must be an email address, or empty"))
        }
        Field::Picture | Field::Location if !is_http_url(value) => Err(format!(
            "{name} must be an http:// or https:// URL, or empty"
        )),
        Field::Phone if !is_phone(value) => Err(format!(
            "{name} must be a phone number: digits, spaces and + - ( ) . only, at least {MIN_PHONE_DIGITS} digits"
        )),
        _ => Ok(()),
    }
}

/// An absolute `http://` or `https://` URL with a host, without spaces.
fn is_http_url(s: &str) -> bool {
    if s.chars().any(char::is_whitespace) {
        return false;
    }
    match url::Url::parse(s) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        }
        Err(_) => false,
    }
}

/// Digits, spaces and `+ - ( ) .`, with at least a few digits.
fn is_phone(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.'))
        && s.chars().filter(char::is_ascii_digit).count() >= MIN_PHONE_DIGITS
}

/// `s` cut to at most `max` characters.
pub fn clip(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_always_pass() {
        for f in Field::ALL {
            assert_eq!(check(f, ""), Ok(()), "{f:?}");
        }
    }

    #[test]
    fn caps_are_in_characters_and_name_the_field() {
        let at_cap = "é".repeat(MAX_NAME);
        assert_eq!(check(Field::Name, &at_cap), Ok(()));
        let err = check(Field::Name, &format!("{at_cap}é")).unwrap_err();
        assert!(
            err.starts_with("`identity.name`") && err.contains("200"),
            "{err}"
        );
        let err = check(Field::Title, &"t".repeat(MAX_TITLE + 1)).unwrap_err();
        assert!(err.starts_with("`identity.title`"), "{err}");
        let err = check(Field::Languages, &"en,".repeat(100)).unwrap_err();
        assert!(err.starts_with("`identity.languages`"), "{err}");
        let long = format!("https://shop.example/{}", "p".repeat(MAX_URL - 21));
        assert_eq!(long.chars().count(), MAX_URL);
        assert_eq!(check(Field::Location, &long), Ok(()));
        assert!(check(Field::Location, &format!("{long}x")).is_err());
    }

    #[test]
    fn control_characters_are_refused() {
        for f in [Field::Name, Field::Title, Field::Languages] {
            assert!(check(f, "a\nb").is_err(), "{f:?}");
            assert!(check(f, "a\u{0}b").is_err(), "{f:?}");
        }
        assert_eq!(check(Field::Name, "Zoë O'Brien-Łukasz 王"), Ok(()));
    }

    #[test]
    fn emails_must_be_addresses() {
        assert_eq!(check(Field::Email, "scar@let.com"), Ok(()));
        for bad in ["scar", "scar@let", "a b@c.com"] {
            let err = check(Field::Email, bad).unwrap_err();
            assert!(err.starts_with("`identity.email`"), "{err}");
        }
    }

    #[test]
    fn pictures_and_locations_are_http_urls() {
        for ok in [
            "http://localhost:8080/",
            "https://pbs.twimg.com/profile_images/1/Qu8c4fje.jpg",
            "https://shop.example.com/checkout?step=2#pay",
        ] {
            assert_eq!(check(Field::Location, ok), Ok(()), "{ok}");
            assert_eq!(check(Field::Picture, ok), Ok(()), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "ftp://files.example/a",
            "/relative/path",
            "shop.example.com",
            "https://",
            "https://a b.example/",
            "file:///etc/passwd",
        ] {
            let err = check(Field::Picture, bad).unwrap_err();
            assert!(err.starts_with("`identity.picture`"), "{bad}: {err}");
            assert!(check(Field::Location, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_are_digits_and_separators() {
        for ok in ["+33123456789", "+1 (555) 010-0199", "06.12.34.56.78", "112"] {
            assert_eq!(check(Field::Phone, ok), Ok(()), "{ok}");
        }
        for bad in [
            "call me",
            "12",
            "+1 555 0100 ext 2",
            "<script>",
            "555-0100;",
        ] {
            let err = check(Field::Phone, bad).unwrap_err();
            assert!(err.starts_with("`identity.phone`"), "{bad}: {err}");
        }
        assert!(check(Field::Phone, &"1".repeat(MAX_PHONE + 1)).is_err());
    }

    #[test]
    fn clip_cuts_on_characters() {
        assert_eq!(clip("héllo", 2), "hé");
        assert_eq!(clip("hé", 5), "hé");
        assert_eq!(clip("", 0), "");
    }
}
