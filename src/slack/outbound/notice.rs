//! Notices about the team's webhooks, posted in the notification channel: Palaver disabled one
//! whose every delivery failed for days (`endpointDisabled`), or a probe got through and it is
//! enabled again (`endpointEnabled`). The events are written by the outcomes that decided it
//! (see [`crate::store::healing`]); they ride the Slack endpoint's deliveries like the others.

use super::render::escape;
use serde::Deserialize;
use serde_json::{Value, json};

/// The endpoint a notice is about, as its event carries it (no path, query or credentials).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointNotice {
    pub id: String,
    /// Scheme, host and port.
    pub destination: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub reason: Option<String>,
    /// The probe interval in words ("1 hour").
    #[serde(default)]
    pub probe_every: String,
}

/// Whether `event` is a notice about a webhook.
pub fn is_notice(event: &str) -> bool {
    matches!(event, "endpointDisabled" | "endpointEnabled")
}

/// The post of notice `event` about `e`.
pub fn render(event: &str, e: &EndpointNotice) -> Value {
    let mut which = format!("*{}* (`{}`", escape(&e.destination), escape(&e.id));
    if !e.description.is_empty() {
        which.push_str(&format!(", {}", escape(&e.description)));
    }
    which.push(')');
    let text = if event == "endpointDisabled" {
        let reason = e.reason.as_deref().unwrap_or("it kept failing");
        format!(
            ":warning: Palaver disabled the webhook to {which}: {}. Its deliveries are held, \
             none is lost: Palaver tries one every {} and enables the webhook again as soon as \
             one gets through. To try at once, enable it on the Integration page.",
            escape(reason),
            escape(&e.probe_every)
        )
    } else {
        format!(
            ":white_check_mark: The webhook to {which} takes deliveries again: Palaver enabled \
             it, and its held deliveries are going out in order."
        )
    };
    json!({"text": text, "unfurl_links": false, "unfurl_media": false})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_say_which_webhook_why_and_what_happens_next() {
        let e = EndpointNotice {
            id: "ep_1".into(),
            destination: "https://example.com".into(),
            description: "CRM <sync>".into(),
            reason: Some("every delivery failed for 5 days (…)".into()),
            probe_every: "1 hour".into(),
        };
        let off = render("endpointDisabled", &e)["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            off.contains("*https://example.com* (`ep_1`, CRM &lt;sync&gt;)"),
            "{off}"
        );
        assert!(off.contains("every delivery failed for 5 days"), "{off}");
        assert!(off.contains("every 1 hour"), "{off}");
        let on = render("endpointEnabled", &e)["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(on.contains("takes deliveries again"), "{on}");
        assert!(is_notice("endpointDisabled") && !is_notice("start"));
    }
}
