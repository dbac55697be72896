//! What every console page shows around its content: who is signed in, the navigation (admins
//! see the Integration and Agents pages too), the sign-out form, and the session's CSRF token
//! for the page's scripts.

use super::Web;
use super::session::Signed;

/// The console's sections.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Conversations,
    Integration,
    Agents,
}

/// The page's frame, for the `admin/layout.html` template.
pub struct Frame {
    pub csrf: String,
    pub admin: bool,
    /// The signed-in agent's id (empty for an admin).
    pub agent_id: String,
    /// Who is signed in, as shown: the agent's name, or "Admin".
    pub who: String,
    pub team_name: String,
    pub section: Section,
}

impl Frame {
    pub async fn of(web: &Web, signed: &Signed, section: Section) -> Frame {
        let agent_id = signed.session.agent_id.clone().unwrap_or_default();
        let who = if agent_id.is_empty() {
            "Admin".to_string()
        } else {
            let profile = web
                .store
                .agent(signed.team.seq, &agent_id)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            display_name(&profile).unwrap_or_else(|| agent_id.clone())
        };
        Frame {
            csrf: signed.session.csrf_token.clone(),
            admin: signed.is_admin(),
            agent_id,
            who,
            team_name: signed.team.name.clone(),
            section,
        }
    }

    pub fn is(&self, name: &str) -> bool {
        matches!(
            (self.section, name),
            (Section::Conversations, "conversations")
                | (Section::Integration, "integration")
                | (Section::Agents, "agents")
        )
    }
}

/// A Slack profile's name as Palaver shows it: `real_name`, else `name`.
pub fn display_name(profile: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(profile).ok()?;
    ["real_name", "name"]
        .iter()
        .find_map(|k| v.get(k)?.as_str().filter(|s| !s.is_empty()))
        .map(str::to_string)
}
