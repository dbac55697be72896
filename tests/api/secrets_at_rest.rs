//! Credentials people present are stored hashed: after a run with the API key, a visitor's token,
//! an agent's password and console sessions (an agent's and an admin's), none of them is
//! anywhere in the database — SQLite's files read byte by byte after the server stopped, every
//! row of every PostgreSQL table as text — while their hashes are (the SHA-256 of the tokens,
//! an argon2id string for the password) and so is the webhook secret Palaver must sign with,
//! which shows the search sees what is stored.

use reqwest::Method;
use sha2::{Digest, Sha256};

use crate::console_auth::client::Console;
use crate::console_auth::{agent_with_email, set_password};
use crate::fixtures::{named, random_token};
use crate::helpers::{TestApp, WAIT};
use crate::receiver::Receiver;
use crate::stores::{TestStore, on_every_store};

on_every_store!(presented_credentials_are_stored_hashed);

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Everything the store holds, as text (SQLite: its files' bytes, lossily).
async fn stored(app: &TestApp) -> String {
    match &app.config.store {
        TestStore::Sqlite => {
            let mut all = String::new();
            for entry in std::fs::read_dir(app.data_dir()).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name.starts_with("palaver.db") {
                    all.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
                }
            }
            all
        }
        TestStore::Postgres(db) => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut all = String::new();
            for (t,) in tables {
                let sql =
                    format!("SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{t}\" t");
                let (rows,): (String,) = sqlx::query_as(&sql).fetch_one(&pool).await.unwrap();
                all.push_str(&rows);
                all.push('\n');
            }
            pool.close().await;
            all
        }
    }
}

async fn presented_credentials_are_stored_hashed(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    let visitor = app.visitor_start(named("Scarlet"), Some("Hello")).await;
    let moss = agent_with_email("U0MOSS001", "Moss", "moss@reynholm.example");
    app.put_agent(&moss).await.expect_status(201);
    let password = format!("pw-{}", random_token(20));
    set_password(&app, "U0MOSS001", &password).await;
    let mut agent = Console::new(&app);
    let r = agent
        .sign_in_agent("moss@reynholm.example", &password)
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let agent_session = agent.session().expect("a session");
    let mut admin = Console::new(&app);
    let r = admin.sign_in_admin(&app.api_key).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let admin_session = admin.session().expect("a session");
    let r = agent.api(Method::GET, "/conversations", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    receiver.wait_for(2, WAIT).await;
    if !app.config.store.is_postgres() {
        app.terminate(WAIT).await; // SQLite's log folded into the database
    }

    let all = stored(&app).await;
    assert!(all.contains(&hook.secret), "the search sees stored text");
    let hashed = [
        ("the team API key", app.api_key.as_str()),
        ("the visitor token", visitor.token.as_str()),
        ("the agent's session cookie", agent_session.as_str()),
        ("the admin's session cookie", admin_session.as_str()),
    ];
    for (what, secret) in hashed {
        assert!(!all.contains(secret), "{what} is stored as it was given");
        assert!(
            all.contains(&sha256_hex(secret)),
            "{what}'s hash is not stored"
        );
    }
    assert!(
        !all.contains(&password),
        "the agent's password is stored as given"
    );
    assert!(
        all.contains("$argon2id$"),
        "the password's argon2id hash is stored"
    );
}
