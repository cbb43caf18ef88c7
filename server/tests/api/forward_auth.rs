//! Forward-auth over HTTP, as a proxy would ask: who passes, where a browser is sent, what a
//! script hears, and that the proxy's headers count only from a trusted proxy.
use crate::helpers::*;
use app::ssr::clock::ManualClock;
use serde_json::json;
use std::sync::Arc;

async fn behind_proxy() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    spawn_app_with(dir, ManualClock::new(START), |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await
}

/// Asks as nginx's `auth_request` would, for `url`, with the client's own headers (a browser's
/// `accept` unless they say otherwise).
async fn nginx(app: &TestApp, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req =
        app.client.get(format!("{}/api/authz/auth-request", app.base)).header("x-original-url", url);
    if !headers.iter().any(|(k, _)| *k == "accept") {
        req = req.header(BROWSER.0, BROWSER.1);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// Asks as Traefik or Caddy would, for `method` on `uri` at 127.0.0.1.
async fn traefik(app: &TestApp, method: &str, uri: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app
        .client
        .get(format!("{}/api/authz/forward-auth", app.base))
        .header("x-forwarded-method", method)
        .header("x-forwarded-proto", "http")
        .header("x-forwarded-host", "127.0.0.1")
        .header("x-forwarded-uri", uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// The sign-in page's form, posted as a browser does (optionally from `origin`), with `rd`.
async fn sign_in_form(app: &TestApp, rd: &str, origin: Option<&str>) -> reqwest::Response {
    use leptos::server_fn::ServerFn;
    let body = format!("username=admin&password={ADMIN_PASSWORD}&rd={}", app::api::encode_query(rd));
    let mut req = app
        .client
        .post(format!("{}{}", app.base, app::api::SignIn::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html");
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.body(body).send().await.unwrap()
}

const SIGN_IN_BACK: &str = "http://127.0.0.1/login?rd=http%3A%2F%2F127.0.0.1%2Fterminal%2F7%3Fcols%3D80";
const BROWSER: (&str, &str) = ("accept", "text/html,application/xhtml+xml,*/*;q=0.8");

#[tokio::test]
async fn a_signed_in_caller_passes_named_and_everyone_else_is_sent_to_sign_in() {
    let app = behind_proxy().await;
    let admin = app.setup_admin().await;
    let (alice, alice_id) = app.user("alice").await;
    let page = "http://127.0.0.1/terminal/7?cols=80";

    // Nobody signed in: nginx hears 401 with the way to sign in; a browser at Traefik is
    // redirected (303 after a form post); a script or an XHR hears 401.
    let r = nginx(&app, page, &[]).await;
    assert_eq!((r.status().as_u16(), header(&r, "location")), (401, SIGN_IN_BACK.to_owned()));
    let r =
        nginx(&app, page, &[("accept", "application/json"), ("x-requested-with", "XMLHttpRequest")]).await;
    assert_eq!(
        (r.status().as_u16(), header(&r, "location")),
        (401, String::new()),
        "an XHR gets no way to sign in"
    );
    let r = traefik(&app, "GET", "/terminal/7?cols=80", &[BROWSER]).await;
    assert_eq!((r.status().as_u16(), header(&r, "location")), (302, SIGN_IN_BACK.to_owned()));
    let r = traefik(&app, "POST", "/terminal/7?cols=80", &[BROWSER]).await;
    assert_eq!(r.status(), 303);
    let r = traefik(&app, "GET", "/terminal/7", &[BROWSER, ("x-requested-with", "XMLHttpRequest")]).await;
    assert_eq!((r.status().as_u16(), header(&r, "location")), (401, String::new()));
    assert_eq!(traefik(&app, "GET", "/terminal/7", &[]).await.status(), 401);

    // Signed in (cookie, Bearer session, API key): 200 and the user for the app behind.
    let cookie = format!("jwt={admin}");
    for res in [
        nginx(&app, page, &[("cookie", &cookie)]).await,
        traefik(&app, "GET", "/terminal/7", &[("cookie", &cookie), BROWSER]).await,
    ] {
        assert_eq!(res.status(), 200);
        assert_eq!(
            [header(&res, "remote-user"), header(&res, "remote-groups"), header(&res, "remote-name")],
            ["admin", "admins,users", "Ada Admin"]
        );
        assert!(res.headers().contains_key("remote-email"));
    }
    let bearer = format!("Bearer {alice}");
    let r = nginx(&app, page, &[("authorization", &bearer)]).await;
    assert_eq!(
        (r.status().as_u16(), header(&r, "remote-user"), header(&r, "remote-groups")),
        (200, "alice".into(), "users".into())
    );
    let key = app
        .post("/api/users/api-keys", Some(&admin), json!({"name": "proxy check", "userId": alice_id}))
        .await;
    let key = format!("Bearer {}", key.body["token"].as_str().unwrap());
    let r = nginx(&app, page, &[("authorization", &key)]).await;
    assert_eq!(
        (r.status().as_u16(), header(&r, "remote-user")),
        (200, "alice".into()),
        "an API key acts as its user"
    );
    // A token of another kind is no session: a sign-in still waiting for its second step.
    let (dora, _) = app.user("dora").await;
    app.enable_totp(&dora).await;
    let pending =
        app.post("/api/auth/login", None, json!({"username": "dora", "password": USER_PASSWORD})).await;
    let pending = format!("Bearer {}", pending.body["mfaToken"].as_str().unwrap());
    assert_eq!(nginx(&app, page, &[("authorization", &pending)]).await.status(), 401);

    // A locked screen does not pass: to the lock screen, with the way back.
    app.post("/api/security/passcode", Some(&alice), json!({"new_passcode": "246810"})).await;
    assert_eq!(app.post("/api/security/lock", Some(&alice), json!({})).await.status, 200);
    let r = nginx(&app, page, &[("authorization", &bearer)]).await;
    let to_unlock = SIGN_IN_BACK.replace("/login?", "/unlock?");
    assert_eq!((r.status().as_u16(), header(&r, "location")), (401, to_unlock));

    // Signed out: refused at the very next request.
    app.post("/api/auth/logout", Some(&admin), json!({})).await;
    let r = nginx(&app, page, &[("cookie", &cookie)]).await;
    assert_eq!(
        (r.status().as_u16(), header(&r, "location")),
        (401, SIGN_IN_BACK.to_owned()),
        "to sign in, not to unlock"
    );
}

#[tokio::test]
async fn the_way_back_is_only_ever_to_this_host_and_only_from_a_trusted_proxy() {
    let app = behind_proxy().await;
    app.setup_admin().await;
    for foreign in [
        "https://evil.example/terminal/7",
        "http://127.0.0.1.evil.example/",
        "http://127.0.0.1:8443/elsewhere",
        "javascript:alert(1)",
        "//evil.example/x",
        "http://user:pass@127.0.0.1/x",
    ] {
        let r = nginx(&app, foreign, &[]).await;
        assert_eq!(
            (r.status().as_u16(), header(&r, "location")),
            (401, "http://127.0.0.1/login".into()),
            "{foreign}"
        );
    }
    // The same question from a peer that is not a trusted proxy: its description of the
    // request is ignored, so nothing it says ends up in the way back.
    let direct = spawn_app().await;
    direct.setup_admin().await;
    let r = nginx(&direct, "http://127.0.0.1/terminal/7", &[]).await;
    assert_eq!((r.status().as_u16(), header(&r, "location")), (401, "http://127.0.0.1/login".into()));
    let r = traefik(&direct, "GET", "/terminal/7", &[BROWSER]).await;
    assert_eq!((r.status().as_u16(), header(&r, "location")), (302, "http://127.0.0.1/login".into()));
    // What a browser may send as `rd` is read as a browser would read it: never another host.
    for odd in ["http:\\\\evil.example/x", "HTTP://127.0.0.1/Terminal/7", "http://127.0.0.1./x"] {
        let r = nginx(&app, odd, &[]).await;
        let location = header(&r, "location");
        assert!(
            location == "http://127.0.0.1/login"
                || location.starts_with("http://127.0.0.1/login?rd=http%3A%2F%2F127.0.0.1%2F"),
            "{odd}: {location}"
        );
    }
}

#[tokio::test]
async fn signing_in_returns_to_rd_on_this_host_and_nowhere_else() {
    let app = behind_proxy().await;
    app.setup_admin().await;
    let sign_in = |rd: &'static str| sign_in_form(&app, rd, None);
    let r = sign_in("http://127.0.0.1/terminal/7?cols=80").await;
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(header(&r, "location"), "http://127.0.0.1/terminal/7?cols=80");
    let token = crate::helpers::cookie_value(
        &Reply { status: r.status(), body: serde_json::Value::Null, headers: r.headers().clone() },
        "jwt",
    )
    .unwrap();
    let r = sign_in("https://evil.example/").await;
    assert_eq!(header(&r, "location"), "/");

    // Already signed in: the sign-in page sends the browser straight back.
    let cookie = format!("jwt={token}");
    let r = app
        .client
        .get(format!("{}/login?rd=http%3A%2F%2F127.0.0.1%2Fterminal%2F7", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "location"), "http://127.0.0.1/terminal/7");
    let r = app
        .client
        .get(format!("{}/login?rd=https%3A%2F%2Fevil.example%2F", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "location"), "/");
}

/// With `PORTCULLIS_COOKIE_DOMAIN`, the session cookie covers sibling hosts and the way back may
/// lead to them (https only, as the public URL); never to a look-alike or another site.
#[tokio::test]
async fn the_cookie_domain_covers_sibling_hosts_and_nothing_else() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let app = spawn_app_with(dir, ManualClock::new(START), |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.public_url = "https://auth.example.com".into();
        s.cookie_domain = Some("example.com".into());
    })
    .await;
    app.setup_admin().await;
    let sign_in = |rd: &'static str| sign_in_form(&app, rd, Some("https://auth.example.com"));
    let r = sign_in("https://term.example.com/terminal/7").await;
    assert_eq!(header(&r, "location"), "https://term.example.com/terminal/7");
    let set =
        r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    let session = set.iter().find(|c| c.starts_with("jwt=")).expect("a session cookie");
    assert!(session.contains("; Domain=example.com;") && session.contains("; Secure"), "{session}");
    for refused in [
        "http://term.example.com/terminal/7",
        "https://example.com.evil.net/",
        "https://notexample.com/",
        "https://evil.net/",
        "https://user@term.example.com/",
    ] {
        let r = sign_in(refused).await;
        assert_eq!(header(&r, "location"), "/", "{refused}");
    }
    // Forward-auth asked about a sibling host sends the browser to sign in here, with the way back.
    let r = app
        .client
        .get(format!("{}/api/authz/forward-auth", app.base))
        .header("accept", "text/html")
        .header("x-forwarded-method", "GET")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "term.example.com")
        .header("x-forwarded-uri", "/terminal/7")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&r, "location"),
        "https://auth.example.com/login?rd=https%3A%2F%2Fterm.example.com%2Fterminal%2F7"
    );
}

/// `PUT /api/authz/rules` as `token`.
async fn put_rules(app: &TestApp, token: &str, rules: serde_json::Value) -> Reply {
    app.send(reqwest::Method::PUT, "/api/authz/rules", Some(token), Some(json!({ "rules": rules }))).await
}

/// Asks as nginx would for `url` with the session `token`, as a browser; answers the status,
/// `Location` and `Remote-User`.
async fn ask(app: &TestApp, url: &str, token: Option<&str>) -> (u16, String, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let r = nginx(app, url, &headers).await;
    (r.status().as_u16(), header(&r, "location"), header(&r, "remote-user"))
}

fn step_up_to(terminal: Option<&str>, rd: &str) -> String {
    let enc = app::api::encode_query;
    match terminal {
        Some(t) => format!("http://127.0.0.1/step-up?terminal={t}&rd={}", enc(rd)),
        None => format!("http://127.0.0.1/step-up?rd={}", enc(rd)),
    }
}

#[tokio::test]
async fn access_rules_decide_who_passes_where_first_match_wins_and_default_deny() {
    let app = behind_proxy().await;
    let admin = app.setup_admin().await;
    let (alice, alice_id) = app.user("alice").await;

    // Only an admin edits them; a wrong rule is refused whole, naming the field.
    let rules = json!([
        {"host": "127.0.0.1", "path": "/public/*", "policy": "bypass"},
        {"path": "/ops/*", "policy": "two_factor", "subjects": ["group:admins"]},
        {"path": "/terminal/{id}/*", "policy": "step_up"},
        {"host": "*", "path": "/home/*", "policy": "one_factor", "subjects": ["user:alice"]},
    ]);
    assert_eq!(put_rules(&app, &alice, rules.clone()).await.status, 403);
    let bad = json!([{"path": "/ok", "policy": "deny"}, {"path": "/terminal/7", "policy": "step_up"}]);
    let r = put_rules(&app, &admin, bad).await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (400, Some("invalid_request")), "{}", r.body);
    assert!(r.body["error"].as_str().unwrap().contains("{id}"), "{}", r.body);
    let r = put_rules(&app, &admin, json!([{"policy": "allow"}])).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(app.get("/api/authz/rules", Some(&admin)).await.body["rules"].as_array().unwrap().is_empty());
    let r = put_rules(&app, &admin, rules).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = app.get("/api/authz/rules", Some(&admin)).await.body;
    assert_eq!(listed["rules"].as_array().unwrap().len(), 4);
    assert_eq!(listed["rules"][1]["subjects"], json!(["group:admins"]));
    assert_eq!(app.get("/api/authz/rules", Some(&alice)).await.status, 403);

    let url = |p: &str| format!("http://127.0.0.1{p}");
    // bypass: nobody needed, nobody named.
    assert_eq!(ask(&app, &url("/public/app.css"), None).await, (200, String::new(), String::new()));
    // A URL the app might read differently from the rules is refused, not guessed at.
    for sneaky in ["/public/..%2Fterminal/7", "/public/../terminal/7", "/public/%2e%2e/terminal/7"] {
        assert_eq!(ask(&app, &url(sneaky), Some(&alice)).await.0, 403, "{sneaky}");
    }
    let (status, _, _) = ask(&app, "http://127.0.0.1:\\public\\x?/terminal/7", None).await;
    assert_eq!(status, 403, "a Host header with more than a port after its colon");
    // Subjects: a rule for alice passes alice; for anyone else no rule matches (refused);
    // nobody signed in is sent to sign in first.
    assert_eq!(ask(&app, &url("/home/x"), Some(&alice)).await, (200, String::new(), "alice".into()));
    assert_eq!(ask(&app, &url("/home/x"), Some(&admin)).await.0, 403);
    let (status, location, _) = ask(&app, &url("/home/x"), None).await;
    assert_eq!((status, location.starts_with("http://127.0.0.1/login?rd=")), (401, true));
    assert_eq!(ask(&app, &url("/elsewhere"), Some(&alice)).await.0, 403, "no rule: refused");
    assert_eq!(ask(&app, &url("/ops/x"), Some(&alice)).await.0, 403);

    // two_factor: the admin signed in with a password only: the step-up page, no terminal.
    let ops = url("/ops/x");
    assert_eq!(ask(&app, &ops, Some(&admin)).await, (401, step_up_to(None, &ops), String::new()));
    let script =
        nginx(&app, &ops, &[("accept", "application/json"), ("authorization", &format!("Bearer {admin}"))])
            .await;
    assert_eq!(script.status(), 403);
    assert_eq!(script.json::<serde_json::Value>().await.unwrap()["code"], "step_up_required");

    // step_up: refused until this session has a grant for this terminal, then only that one.
    let t7 = url("/terminal/7/ws");
    assert_eq!(ask(&app, &t7, Some(&alice)).await, (401, step_up_to(Some("7"), &t7), String::new()));
    let (secret, _) = app.enable_totp(&alice).await;
    let code = app.code(&secret);
    let r = app.post("/api/security/terminal/7/mfa-verify", Some(&alice), json!({"code": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ask(&app, &t7, Some(&alice)).await, (200, String::new(), "alice".into()));
    assert_eq!(ask(&app, &url("/terminal/7"), Some(&alice)).await.0, 200);
    assert_eq!(ask(&app, &url("/terminal/8"), Some(&alice)).await.0, 401, "another terminal");
    // Another session of alice's has no grant.
    let (other, _) = {
        let r =
            app.post("/api/users/login", None, json!({"username": "alice", "password": USER_PASSWORD})).await;
        let mfa = r.body["temp_token"].as_str().unwrap().to_owned();
        app.clock.advance(30);
        let code = app.code(&secret);
        let r = app
            .post("/api/users/totp/verify-login", None, json!({"temp_token": mfa, "totp_code": code}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        (r.body["token"].as_str().unwrap().to_owned(), ())
    };
    assert_eq!(ask(&app, &t7, Some(&other)).await.0, 401, "the grant is this session's only");
    // An API key is never a session: refused, never sent to a page it cannot use.
    let key = app.post("/api/users/api-keys", Some(&admin), json!({"name": "bot", "userId": alice_id})).await;
    assert_eq!(key.status, 201, "{}", key.body);
    assert_eq!(ask(&app, &t7, key.body["token"].as_str()).await.0, 403, "an API key on a step_up path");
    // Fifteen minutes later the grant is over.
    app.clock.advance(15 * 60 + 1);
    assert_eq!(ask(&app, &t7, Some(&alice)).await.0, 401);

    // A request the proxy did not describe matches no rule.
    let r = app
        .client
        .get(format!("{}/api/authz/auth-request", app.base))
        .header("authorization", format!("Bearer {alice}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // The change is in the audit log; an empty list lets every session through again.
    assert!(
        app.sql_count("SELECT COUNT(*) FROM audit_events WHERE type = 'access_rules_changed'").await >= 1
    );
    assert_eq!(put_rules(&app, &admin, json!([])).await.status, 200);
    assert_eq!(ask(&app, &url("/elsewhere"), Some(&alice)).await.0, 200);
}

#[tokio::test]
async fn two_factor_rules_count_the_code_step_and_the_step_up_page_and_survive_an_unlock() {
    use leptos::server_fn::ServerFn;
    let app = behind_proxy().await;
    let admin = app.setup_admin().await;
    assert_eq!(
        put_rules(&app, &admin, json!([{"path": "/ops/*", "policy": "two_factor"}])).await.status,
        200
    );
    let ops = "http://127.0.0.1/ops/x";
    assert_eq!(ask(&app, ops, Some(&admin)).await.0, 401, "a password alone is one factor");

    // The step-up page, before two-factor is on, says how to get there.
    let page = app
        .client
        .get(format!("{}/step-up?rd={}", app.base, app::api::encode_query(ops)))
        .header("cookie", format!("jwt={admin}"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Set one up in Security"));

    // Its form: a wrong code is refused; the right one counts for this session, and back.
    let (secret, _) = app.enable_totp(&admin).await;
    let confirm = |code: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.client
                .post(format!("{}{}", app.base, app::api::ConfirmStepUp::PATH))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "text/html")
                .header("origin", &app.base)
                .header("referer", format!("{}/step-up?rd={}", app.base, app::api::encode_query(ops)))
                .header("cookie", format!("jwt={admin}"))
                .body(format!("code={code}&rd={}", app::api::encode_query(ops)))
                .send()
                .await
                .unwrap()
        }
    };
    let r = confirm("000000".into()).await;
    assert_ne!(header(&r, "location"), ops, "a wrong code does not pass");
    assert_eq!(ask(&app, ops, Some(&admin)).await.0, 401);
    app.clock.advance(30);
    let r = confirm(app.code(&secret)).await;
    assert_eq!(header(&r, "location"), ops, "back to where the proxy sent it from");
    assert_eq!(ask(&app, ops, Some(&admin)).await, (200, String::new(), "admin".into()));
    assert!(
        app.sql_count("SELECT COUNT(*) FROM audit_events WHERE type = 'step_up' AND outcome = 'success'")
            .await
            == 1
    );

    // The screen lock's unlock mints a new session: the second factor goes with it.
    assert_eq!(
        app.post("/api/security/passcode", Some(&admin), json!({"new_passcode": "480913"})).await.status,
        200
    );
    assert_eq!(app.post("/api/security/lock", Some(&admin), json!({})).await.status, 200);
    assert!(ask(&app, ops, Some(&admin)).await.1.starts_with("http://127.0.0.1/unlock?rd="));
    let r = app.post("/api/security/unlock", Some(&admin), json!({"passcode": "480913"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let unlocked = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(ask(&app, ops, Some(&unlocked)).await.0, 200);

    // Signing in with the code step counts as two factors; a password alone never does.
    app.clock.advance(30);
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let mfa = r.body["temp_token"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": mfa, "totp_code": app.code(&secret)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ask(&app, ops, r.body["token"].as_str()).await.0, 200);
}

#[tokio::test]
async fn the_configuration_files_rules_are_written_once() {
    use app::ssr::services::access_rules::RuleInput;
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let seeded = |s: &mut server::config::Settings| {
        s.access_rules = vec![
            RuleInput {
                host: "".into(),
                path: "/terminal/{id}".into(),
                policy: "step_up".into(),
                subjects: vec![],
            },
            RuleInput { path: "/*".into(), policy: "one_factor".into(), ..Default::default() },
        ];
    };
    let app = spawn_app_with(dir.clone(), ManualClock::new(START), seeded).await;
    let admin = app.setup_admin().await;
    let rules = app.get("/api/authz/rules", Some(&admin)).await.body;
    assert_eq!(rules["rules"][0]["path"], "/terminal/{id}");
    assert_eq!(rules["rules"][1]["policy"], "one_factor");
    // An admin removes them; the next start does not bring them back.
    assert_eq!(put_rules(&app, &admin, json!([])).await.status, 200);
    let again = spawn_app_with(dir, ManualClock::new(START), seeded).await;
    assert!(again.get("/api/authz/rules", Some(&admin)).await.body["rules"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn only_page_loads_count_as_activity_for_the_idle_lock() {
    let app = behind_proxy().await;
    let admin = app.setup_admin().await;
    let r = app
        .post(
            "/api/security/passcode",
            Some(&admin),
            json!({"new_passcode": "480913", "lock_after_minutes": 5}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let bearer = format!("Bearer {admin}");
    let url = "http://127.0.0.1/terminal/7";
    let xhr = [
        ("accept", "application/json"),
        ("x-requested-with", "XMLHttpRequest"),
        ("authorization", bearer.as_str()),
    ];
    let page = [("authorization", bearer.as_str())];

    // An app polling in the background every minute does not keep the session awake…
    for _ in 0..4 {
        app.clock.advance(60);
        assert_eq!(nginx(&app, url, &xhr).await.status(), 200);
    }
    app.clock.advance(61);
    assert_eq!(nginx(&app, url, &xhr).await.status(), 401, "idle for 5 minutes: locked");
    let r = nginx(&app, url, &page).await;
    assert!(header(&r, "location").starts_with("http://127.0.0.1/unlock?rd="), "the lock screen");

    // …while a page load does.
    let r = app.post("/api/security/unlock", Some(&admin), json!({"passcode": "480913"})).await;
    let fresh = format!("Bearer {}", r.body["token"].as_str().unwrap());
    let page = [("authorization", fresh.as_str())];
    for _ in 0..6 {
        app.clock.advance(60);
        assert_eq!(nginx(&app, url, &page).await.status(), 200);
    }
}
