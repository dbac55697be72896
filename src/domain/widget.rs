//! A team's widget settings: how the chat bubble looks and which websites may use it.
//!
//! Stored as JSON on the team; every key is optional when read, so that a setting added later
//! reads as its default from rows written before it existed. Changes come as a [`WidgetPatch`]
//! whose every value is checked here ([`WidgetSettings::apply`]).

mod origin;

pub use origin::{is_own_origin, normalize_origin};
use serde::{Deserialize, Serialize};

/// Most entries of `allowedOrigins`.
pub const MAX_ORIGINS: usize = 100;
/// Most characters of a title, once trimmed.
pub const MAX_TITLE: usize = 60;
/// Most characters of a greeting, once trimmed.
pub const MAX_GREETING: usize = 500;

/// What a team chose for its widget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct WidgetSettings {
    /// The heading of the open chat window.
    pub title: String,
    /// The first line the visitor reads, before anyone wrote (may be empty: no greeting).
    pub greeting: String,
    /// The accent colour (bubble, header, the visitor's messages): `#rgb` or `#rrggbb`, lowercase.
    pub color: String,
    /// Which bottom corner the bubble sits in.
    pub position: Position,
    /// The websites (`scheme://host[:port]`, normalized) whose pages may use the visitor API;
    /// empty: any. Browsers send the page's origin; other clients could forge it, so this keeps
    /// the widget off other sites rather than being an authentication.
    pub allowed_origins: Vec<String>,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        WidgetSettings {
            title: "Chat with us".into(),
            greeting: "Hi! How can we help you today?".into(),
            color: "#4f46e5".into(),
            position: Position::Right,
            allowed_origins: Vec::new(),
        }
    }
}

/// The bottom corner of the page the bubble sits in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    #[default]
    Right,
    Left,
}

/// A change of some settings: absent (or null) fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"title": "Talk to us", "color": "#0f766e", "allowedOrigins": ["https://example.com"]}))]
pub struct WidgetPatch {
    /// 1 to 60 characters once trimmed.
    pub title: Option<String>,
    /// At most 500 characters once trimmed (may be empty: no greeting).
    pub greeting: Option<String>,
    /// `#rgb` or `#rrggbb`.
    #[schema(pattern = "^\\s*#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\\s*$")]
    pub color: Option<String>,
    /// A string rather than [`Position`], so that a wrong value is reported by field name.
    #[schema(value_type = Option<Position>)]
    pub position: Option<String>,
    /// The websites (`scheme://host[:port]`) whose pages may use the visitor API; empty: any.
    #[schema(max_items = 100)]
    pub allowed_origins: Option<Vec<String>>,
}

/// A refused setting: which field, and what it must be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {message}")]
pub struct WidgetError {
    /// The field's name as the API spells it (`allowedOrigins`).
    pub field: &'static str,
    /// What is wrong and what would be right.
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> WidgetError {
    WidgetError {
        field,
        message: message.into(),
    }
}

/// The part of the settings the widget script reads (not the origins: pages need not know).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PublicWidget<'a> {
    pub title: &'a str,
    pub greeting: &'a str,
    pub color: &'a str,
    pub position: Position,
}

impl WidgetSettings {
    /// These settings with the patch applied, or the first invalid value.
    pub fn apply(&self, patch: WidgetPatch) -> Result<WidgetSettings, WidgetError> {
        let mut next = self.clone();
        if let Some(title) = patch.title {
            next.title = title_of(&title)?;
        }
        if let Some(greeting) = patch.greeting {
            next.greeting = greeting_of(&greeting)?;
        }
        if let Some(color) = patch.color {
            next.color = color_of(&color)?;
        }
        if let Some(position) = patch.position {
            next.position = position_of(&position)?;
        }
        if let Some(origins) = patch.allowed_origins {
            next.allowed_origins = origins_of(&origins)?;
        }
        Ok(next)
    }

    /// What the widget script is told.
    pub fn public(&self) -> PublicWidget<'_> {
        PublicWidget {
            title: &self.title,
            greeting: &self.greeting,
            color: &self.color,
            position: self.position,
        }
    }
}

/// Whether a page of `origin` (an `Origin` header) may use this team's visitor API: any may
/// when the list is empty.
pub fn origin_allowed(settings: &WidgetSettings, origin: &str) -> bool {
    if settings.allowed_origins.is_empty() {
        return true;
    }
    let listed = |o: &str| settings.allowed_origins.iter().any(|a| a == o);
    // Browsers send origins already normalized: the exact comparison is the usual answer.
    listed(origin) || normalize_origin(origin).is_ok_and(|o| listed(&o))
}

fn title_of(given: &str) -> Result<String, WidgetError> {
    let t = given.trim();
    let n = t.chars().count();
    if n == 0 || n > MAX_TITLE {
        return Err(invalid(
            "title",
            format!(
                "must have 1 to {MAX_TITLE} characters (not counting surrounding spaces), not {n}"
            ),
        ));
    }
    Ok(t.to_string())
}

fn greeting_of(given: &str) -> Result<String, WidgetError> {
    let g = given.trim();
    let n = g.chars().count();
    if n > MAX_GREETING {
        return Err(invalid(
            "greeting",
            format!("must have at most {MAX_GREETING} characters, not {n}"),
        ));
    }
    Ok(g.to_string())
}

fn color_of(given: &str) -> Result<String, WidgetError> {
    let c = given.trim();
    let hex = c.strip_prefix('#').unwrap_or("");
    if c.starts_with('#')
        && matches!(hex.len(), 3 | 6)
        && hex.chars().all(|ch| ch.is_ascii_hexdigit())
    {
        return Ok(c.to_ascii_lowercase());
    }
    Err(invalid(
        "color",
        format!("must be a hex colour `#rgb` or `#rrggbb` (like \"#4f46e5\"), not {given:?}"),
    ))
}

fn position_of(given: &str) -> Result<Position, WidgetError> {
    match given {
        "right" => Ok(Position::Right),
        "left" => Ok(Position::Left),
        _ => Err(invalid(
            "position",
            format!("must be \"right\" or \"left\", not {given:?}"),
        )),
    }
}

/// The list normalized and without duplicates, in the order given.
fn origins_of(given: &[String]) -> Result<Vec<String>, WidgetError> {
    if given.len() > MAX_ORIGINS {
        return Err(invalid(
            "allowedOrigins",
            format!(
                "may list at most {MAX_ORIGINS} origins, not {}",
                given.len()
            ),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(given.len());
    for (i, o) in given.iter().enumerate() {
        let normal = normalize_origin(o).map_err(|why| {
            invalid(
                "allowedOrigins",
                format!("entry {i} ({o:?}) is not an origin: {why}"),
            )
        })?;
        if !out.contains(&normal) {
            out.push(normal);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
