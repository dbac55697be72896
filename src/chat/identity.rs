//! The identity a visitor's widget sends, checked against [`crate::domain::identity`] before
//! anything is planned, and merged onto the stored one.

use super::ChatError;
use crate::domain::Identity;
use crate::domain::identity::{Field, MAX_USER_AGENT, check, clip};
use serde::Deserialize;

/// The identity a widget may send; the server adds `userAgent` and `ip`. Every field is
/// optional, and an empty one keeps what is stored; none may hold control characters.
#[derive(Deserialize, serde::Serialize, Default, Clone, Debug, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({"name": "Scarlet", "phone": "+33123456789", "email": "scar@let.com", "location": "https://example.com/pricing", "languages": "en"}))]
pub struct IdentityInput {
    #[schema(max_length = 200)]
    pub name: String,
    /// Digits, spaces and `+ - ( ) .`, at least 3 digits.
    #[schema(
        max_length = 50,
        pattern = "^([0-9 +().-]*[0-9][0-9 +().-]*[0-9][0-9 +().-]*[0-9][0-9 +().-]*)?$"
    )]
    pub phone: String,
    /// An email address.
    #[schema(max_length = 254)]
    pub email: String,
    /// An http(s) URL.
    #[schema(max_length = 2048)]
    pub picture: String,
    /// The page's title.
    #[schema(max_length = 500)]
    pub title: String,
    /// The page's URL, http(s).
    #[schema(max_length = 2048)]
    pub location: String,
    /// A comma-separated list of language tags.
    #[schema(max_length = 200)]
    pub languages: String,
}

impl IdentityInput {
    fn get(&self, field: Field) -> &str {
        match field {
            Field::Name => &self.name,
            Field::Phone => &self.phone,
            Field::Email => &self.email,
            Field::Picture => &self.picture,
            Field::Title => &self.title,
            Field::Location => &self.location,
            Field::Languages => &self.languages,
        }
    }

    /// Refuses the first field the rules refuse, naming it (`identity.email`, …).
    pub fn check(&self) -> Result<(), ChatError> {
        for field in Field::ALL {
            check(field, self.get(field)).map_err(ChatError::Invalid)?;
        }
        Ok(())
    }
}

/// Everything `POST /visitor/conversations` brings.
pub struct StartInput {
    pub identity: IdentityInput,
    /// A returning visitor's token.
    pub token: Option<String>,
    pub message: Option<String>,
    /// From the request: the `User-Agent` header and the client address.
    pub user_agent: String,
    pub ip: String,
}

/// Applies what the widget sent (checked) onto the stored identity: given values win, empty ones
/// keep. The `User-Agent` is cut to [`MAX_USER_AGENT`] characters.
pub(super) fn merge(identity: &mut Identity, input: &IdentityInput, user_agent: &str, ip: &str) {
    let pairs = [
        (&mut identity.name, input.name.as_str()),
        (&mut identity.phone, &input.phone),
        (&mut identity.email, &input.email),
        (&mut identity.picture, &input.picture),
        (&mut identity.title, &input.title),
        (&mut identity.location, &input.location),
        (&mut identity.languages, &input.languages),
        (&mut identity.user_agent, clip(user_agent, MAX_USER_AGENT)),
        (&mut identity.ip, ip),
    ];
    for (stored, given) in pairs {
        if !given.is_empty() && stored != given {
            *stored = given.to_string();
        }
    }
}
