//! Who may sign in to the console, and the sessions they get: an admin by the team's API key, an
//! agent by its profile's email and its console password (argon2id, checked on a blocking
//! thread, in the same time whether or not the email is known).

use super::Web;
use crate::domain::{Millis, hash_secret, new_secret, password};
use crate::store::{SessionRecord, Team};

pub async fn by_api_key(web: &Web, key: &str) -> Option<(Team, Option<String>)> {
    let team = web
        .store
        .team_by_api_key_hash(&hash_secret(key.trim()))
        .await
        .ok()??;
    Some((team, None))
}

/// The agent whose profile email and console password these are (any team).
pub async fn by_password(web: &Web, email: &str, given: &str) -> Option<(Team, Option<String>)> {
    let email = email.trim().to_lowercase();
    let logins = web.store.agent_logins().await.ok()?;
    let candidates: Vec<_> = logins
        .into_iter()
        .filter(|l| profile_email(&l.profile).as_deref() == Some(email.as_str()))
        .collect();
    let given = given.to_string();
    let found = tokio::task::spawn_blocking(move || {
        // With no candidate, a hash is still checked: the answer takes as long either way.
        if candidates.is_empty() {
            password::verify(&given, &DECOY);
            return None;
        }
        candidates
            .into_iter()
            .find(|l| password::verify(&given, &l.password_hash))
    })
    .await
    .ok()??;
    let team = web.store.team(found.team_seq).await.ok()??;
    Some((team, Some(found.agent_id)))
}

/// A hash of a password no one has: checked when no account matches, so that the answer takes
/// as long as a real check.
static DECOY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| password::hash(&new_secret("decoy_")));

fn profile_email(profile: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(profile).ok()?;
    Some(
        v.get("profile")?
            .get("email")?
            .as_str()?
            .trim()
            .to_lowercase(),
    )
}

pub async fn start_session(
    web: &Web,
    team: &Team,
    agent_id: Option<String>,
) -> crate::store::Result<String> {
    let token = new_secret("ps_");
    let now = Millis::now();
    web.store
        .create_session(SessionRecord {
            token_hash: hash_secret(&token),
            team_seq: team.seq,
            agent_id,
            csrf_token: new_secret(""),
            created_at: now,
            last_seen_at: now,
        })
        .await?;
    Ok(token)
}
