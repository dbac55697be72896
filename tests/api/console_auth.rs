//! The console's sign-in and sessions over HTTP, against the real server: pages without a
//! session send people to the sign-in form; wrong keys and passwords get 401 and no cookie; the
//! form and every change made with a session need their CSRF token; failures are throttled; the
//! pages send security headers; no secret reaches the server's log. Agents' sessions, sign-out
//! and expiry are in `console_auth/sessions.rs`.

pub mod client;
mod sessions;

use reqwest::Method;
use serde_json::json;

use crate::fixtures::random_token;
use crate::helpers::TestApp;
use crate::stores::{TestStore, on_every_store};
use client::{Console, FORM_COOKIE, SESSION, attr_after, redirect_to, set_cookie};

on_every_store!(
    wrong_keys_and_passwords_get_401_and_no_cookie,
    an_admin_session_calls_the_api_with_its_csrf_token,
);

const PAGES: [&str; 3] = [
    "/admin/conversations",
    "/admin/integration",
    "/admin/agents",
];

/// Fails if any of `secrets` appears in the server's log.
pub fn assert_not_logged(app: &TestApp, secrets: &[&str]) {
    let log = app.log();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(
            !log.contains(s),
            "the server log shows a secret ({}…):\n{log}",
            &s[..4.min(s.len())]
        );
    }
}

/// An agent with a console email, as a Slack `users.info` user.
pub fn agent_with_email(id: &str, name: &str, email: &str) -> serde_json::Value {
    let mut a = crate::fixtures::agent(id, name);
    a["profile"]["email"] = json!(email);
    a
}

/// `PUT /agents/{id}/password` with the API key.
pub async fn set_password(app: &TestApp, id: &str, password: &str) {
    let path = format!("/agents/{id}/password");
    let body = json!({ "password": password });
    let r = app.api(Method::PUT, &path).json(&body).send().await;
    r.expect_status(204);
}

#[tokio::test]
async fn pages_without_a_session_redirect_to_sign_in() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let mut anonymous = Console::new(&app);
    let mut forged = Console::with_session(&app, &format!("ps_{}", random_token(32)));
    for path in PAGES {
        for browser in [&mut anonymous, &mut forged] {
            let r = browser.get(path).await;
            let to = redirect_to(&r);
            let next = path.replace('/', "%2F");
            assert_eq!(to, format!("/admin/sign-in?next={next}"), "{path}");
        }
    }
    let r = anonymous.get("/admin/agents?x=1").await;
    assert_eq!(
        redirect_to(&r),
        "/admin/sign-in?next=%2Fadmin%2Fagents%3Fx%3D1"
    );
    assert_eq!(
        redirect_to(&anonymous.get("/admin").await),
        "/admin/sign-in"
    );
    let r = forged.api(Method::GET, "/conversations", None, None).await;
    r.expect_problem(401);
}

async fn wrong_keys_and_passwords_get_401_and_no_cookie(store: TestStore) {
    // Each attempt from its own address (said by a trusted proxy): none is slowed down.
    let app = TestApp::builder(store)
        .env("PALAVER_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    let moss = agent_with_email("U0MOSS001", "Moss", "moss@reynholm.example");
    app.put_agent(&moss).await.expect_status(201);
    let roy = agent_with_email("U0ROY0001", "Roy", "roy@reynholm.example");
    app.put_agent(&roy).await.expect_status(201);
    let password = format!("pw-{}", random_token(16));
    set_password(&app, "U0MOSS001", &password).await;

    let from = |n: usize| Console::new(&app).always("x-forwarded-for", &format!("198.51.100.{n}"));
    let wrong_key = format!("sk_{}", random_token(24));
    let near_key = format!("{}x", app.api_key);
    let attempts = [
        from(1).sign_in_admin(&wrong_key).await,
        from(2).sign_in_admin(&near_key).await,
        from(3).sign_in_admin("").await,
        from(4)
            .sign_in_agent("moss@reynholm.example", "not-the-password")
            .await,
        from(5)
            .sign_in_agent("nobody@reynholm.example", &password)
            .await,
        // Roy has no console password: no password opens his account.
        from(6)
            .sign_in_agent("roy@reynholm.example", &password)
            .await,
        from(7).sign_in_agent("roy@reynholm.example", "").await,
    ];
    for r in &attempts {
        assert_eq!(r.status, 401, "{}", r.text());
        assert_eq!(
            set_cookie(r, SESSION),
            None,
            "no session cookie on a failure"
        );
        assert!(
            r.text().contains("alert-error"),
            "the form says what went wrong"
        );
    }

    // The right password opens Moss's account, whatever the email's case.
    let mut c = from(8);
    let ok = c.sign_in_agent(" MOSS@Reynholm.example ", &password).await;
    assert_eq!(redirect_to(&ok), "/admin/conversations");
    assert!(c.session().is_some());
    assert_not_logged(&app, &[&app.api_key, &password, &wrong_key, &near_key]);
}

#[tokio::test]
async fn the_sign_in_form_needs_its_csrf_cookie() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let key = app.api_key.clone();
    let mut c = Console::new(&app);
    let csrf = c.open_sign_in(true).await;
    let other = format!("{}x", &csrf[..csrf.len() - 1]);
    for form in [
        vec![("api_key", key.as_str())],
        vec![("api_key", key.as_str()), ("csrf", "")],
        vec![("api_key", key.as_str()), ("csrf", other.as_str())],
    ] {
        let r = c.post_form("/admin/sign-in", &form).await;
        assert_eq!(r.status, 403, "{form:?}: {}", r.text());
        assert_eq!(set_cookie(&r, SESSION), None);
    }
    // The right field without its cookie (a post from another site's page) is refused too.
    let mut elsewhere = Console::new(&app);
    let form = [("api_key", key.as_str()), ("csrf", csrf.as_str())];
    let r = elsewhere.post_form("/admin/sign-in", &form).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(elsewhere.session(), None);
    assert_eq!(c.session(), None);
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_slowed_down() {
    let app = TestApp::builder(TestStore::Sqlite)
        .env("PALAVER_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    let key = app.api_key.clone();
    let mut attacker = Console::new(&app).always("x-forwarded-for", "198.51.100.7");
    let mut failures = 0;
    let refused = loop {
        let r = attacker.sign_in_admin("sk_guess").await;
        if r.status != 401 {
            break r;
        }
        failures += 1;
        assert!(failures <= 10, "ten failures in a row were not slowed down");
    };
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert!(
        failures >= 3,
        "a person may mistype a few times ({failures})"
    );
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "Retry-After: {retry}");
    // During the wait even the right key is refused from there…
    let r = attacker.sign_in_admin(&key).await;
    assert_eq!(r.status, 429);
    assert_eq!(attacker.session(), None);
    assert!(
        r.text().contains("Too many failed sign-ins"),
        "{}",
        r.text()
    );
    // …until Retry-After has passed (the wait is the thing tested; 2 s after 5 failures).
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(retry)).await;
    let r = attacker.sign_in_admin(&key).await;
    assert_eq!(r.status, 303, "after Retry-After: {}", r.text());
    assert!(attacker.session().is_some());
    // …but not from another address; and over HTTPS (said by the proxy) the cookie is Secure.
    let mut other = Console::new(&app)
        .always("x-forwarded-for", "198.51.100.8")
        .always("x-forwarded-proto", "https");
    let r = other.sign_in_admin(&key).await;
    redirect_to(&r);
    assert!(set_cookie(&r, SESSION).unwrap().contains("; Secure"));
}

async fn an_admin_session_calls_the_api_with_its_csrf_token(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let mut c = Console::new(&app);
    let r = c.sign_in_admin(&app.api_key).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(redirect_to(&r), "/admin/conversations");
    let cookie = set_cookie(&r, SESSION).expect("a session cookie");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert!(
        set_cookie(&r, FORM_COOKIE).is_some_and(|c| c.contains("Max-Age=0")),
        "the form's cookie is cleared"
    );
    let token = c.session().unwrap();
    assert!(!cookie.contains(&app.api_key) && !token.contains(&app.api_key));

    let list = c.api(Method::GET, "/conversations", None, None).await;
    list.expect_json(200);
    let hook = json!({ "url": "https://example.com/hook" });
    let r = c.api(Method::POST, "/webhooks", Some(&hook), None).await;
    assert_eq!(r.expect_problem(403)["type"], "urn:palaver:problem:csrf");
    let r = c
        .api(Method::POST, "/webhooks", Some(&hook), Some("nope"))
        .await;
    r.expect_problem(403);
    assert!(app.list("/webhooks").await.is_empty(), "nothing was made");
    let csrf = c.csrf().await;
    assert!(csrf.len() >= 20, "{csrf:?}");
    let made = c
        .api(Method::POST, "/webhooks", Some(&hook), Some(&csrf))
        .await;
    made.expect_json(201);
    let r = c
        .api(Method::DELETE, "/agents/U0NONE", None, Some(&csrf))
        .await;
    r.expect_problem(404);

    // `next` brings an admin back where they were going, never to another site.
    for (next, to) in [
        ("/admin/agents", "/admin/agents"),
        ("https://evil.example/", "/admin/conversations"),
        ("//evil.example/admin/", "/admin/conversations"),
    ] {
        let mut b = Console::new(&app);
        let csrf = b.open_sign_in(true).await;
        let form = [
            ("csrf", csrf.as_str()),
            ("api_key", &app.api_key),
            ("next", next),
        ];
        let r = b.post_form("/admin/sign-in", &form).await;
        assert_eq!(redirect_to(&r), to, "next={next}");
    }
    assert_not_logged(&app, &[&app.api_key, &token, &csrf]);
}

#[tokio::test]
async fn console_pages_send_security_headers() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let mut c = Console::new(&app);
    let sign_in = c.get("/admin/sign-in").await;
    c.sign_in_admin(&app.api_key).await;
    let mut pages = vec![sign_in];
    for path in PAGES {
        pages.push(c.get(path).await);
    }
    for page in &pages {
        assert_eq!(page.status, 200, "{}: {}", page.what, page.text());
        let h = |name: &str| {
            let v = page.headers.get(name);
            v.and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{}: no {name}: {:?}", page.what, page.headers))
        };
        let csp = h("content-security-policy");
        let scripts = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .or_else(|| csp.split(';').find(|d| d.trim().starts_with("default-src")))
            .unwrap_or_else(|| panic!("{}: no script policy: {csp}", page.what));
        assert!(!scripts.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert!(!h("referrer-policy").is_empty());
        assert_eq!(h("cache-control"), "no-store", "{}", page.what);
        // Every script is a file: inline ones would not run under this policy.
        let html = page.text();
        for tag in html.split("<script").skip(1) {
            assert!(
                tag.starts_with(" src=\"/"),
                "{}: an inline script: <script{}",
                page.what,
                &tag[..60.min(tag.len())]
            );
        }
    }
    let html = pages[1].text();
    assert!(!attr_after(&html, r#"<meta name="csrf-token" content=""#).is_empty());
}
