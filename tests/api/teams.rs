//! Teams: the default team's site key, and more teams made with `palaver team create`.

use std::process::Stdio;

use serde_json::Value;

use crate::helpers::TestApp;

/// A team made with `palaver team create`.
#[derive(Clone, Debug)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub api_key: String,
    pub site_key: String,
}

impl TestApp {
    /// `palaver team create <name> --data-dir <dir>`: a second team with its own keys.
    pub async fn create_team(&self, name: &str) -> Team {
        let mut cmd = self.base_command();
        cmd.args(["team", "create", name, "--data-dir"])
            .arg(self.data_dir())
            .args(self.config.store.args())
            .stdin(Stdio::null());
        let out = cmd.output().await.expect("run palaver team create");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "palaver team create failed ({}): stdout {stdout:?} stderr {:?}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout.lines().rfind(|l| !l.trim().is_empty());
        let json: Value = serde_json::from_str(line.unwrap_or(""))
            .unwrap_or_else(|e| panic!("team create must print one JSON line ({e}): {stdout:?}"));
        let field = |k: &str| {
            json[k]
                .as_str()
                .unwrap_or_else(|| panic!("team create output lacks string {k}: {json}"))
                .to_owned()
        };
        let team = Team {
            id: field("id"),
            name: field("name"),
            api_key: field("apiKey"),
            site_key: field("siteKey"),
        };
        assert_eq!(team.name, name, "team create output: {json}");
        team
    }

    /// The usual second team, named `other`.
    pub async fn second_team(&self) -> Team {
        self.create_team("other").await
    }

    /// The default team's site key (from `GET /team`, fetched once).
    pub async fn site_key(&self) -> String {
        self.site_key
            .get_or_init(|| async {
                let team = self.api(reqwest::Method::GET, "/team").send().await;
                let team = team.expect_json(200);
                team["siteKey"]
                    .as_str()
                    .unwrap_or_else(|| panic!("GET /team has no siteKey: {team}"))
                    .to_owned()
            })
            .await
            .clone()
    }
}
