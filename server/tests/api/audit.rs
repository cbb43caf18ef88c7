//! The audit log: every security action leaves its event (with who, how, from where and how it
//! ended), failures too; admins search, page and export; each user sees their own activity;
//! retention prunes; a change and its event are kept together or not at all.
use crate::helpers::*;
use serde_json::{json, Value};

/// Every event the admin list holds, newest first (all pages).
async fn all_events(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/admin/audit?limit=50&{query}&cursor={c}"),
            None => format!("/api/admin/audit?limit=50&{query}"),
        };
        let r = app.get(&path, Some(admin)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        out.extend(r.body["events"].as_array().unwrap().iter().cloned());
        match r.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// One expected event: type, outcome, the actor's name, how they were authenticated, and
/// whose account it concerns.
type Expected = (&'static str, &'static str, Option<&'static str>, &'static str, Option<&'static str>);

fn ok_status(r: Reply) {
    assert!(r.status.is_success(), "{}", r.body);
}

fn find<'a>(events: &'a [Value], kind: &str, outcome: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind && e["outcome"] == outcome).collect()
}

async fn temp_token_of(app: &TestApp, name: &str) -> String {
    let r = app.post("/api/users/login", None, json!({"username": name, "password": USER_PASSWORD})).await;
    r.body["temp_token"].as_str().unwrap_or_else(|| panic!("{}", r.body)).to_owned()
}

fn reset_code(username: &str) -> String {
    let log = server_log();
    let needle = format!("username={username} code=");
    let at = log.rfind(&needle).unwrap_or_else(|| panic!("no reset code for {username} in the log"));
    log[at + needle.len()..at + needle.len() + 6].to_owned()
}

#[tokio::test]
async fn every_security_action_leaves_its_event_with_who_how_and_from_where() {
    let app = spawn_app_with_gateway().await;
    let admin = app.setup_admin().await;
    let (alice, alice_id) = app.user("alice").await;
    let (bob, _) = app.user("bob").await;
    let (carol, _) = app.user("carol").await;
    app.enable_totp(&bob).await;
    ok_status(app.post("/api/users/totp/disable", Some(&bob), json!({"password": USER_PASSWORD})).await);
    let wrong = app
        .post("/api/users/login", None, json!({"username": "alice", "password": "wrong-horse-battery"}))
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        app.post("/api/users/reauthenticate", Some(&admin), json!({"password": ADMIN_PASSWORD})).await.status,
        200
    );

    // The screen lock, start to end.
    let ok = |r: Reply| assert!(r.status.is_success(), "{}", r.body);
    ok(app.post("/api/security/passcode", Some(&alice), json!({"new_passcode": "246810"})).await);
    ok(app
        .post(
            "/api/security/passcode",
            Some(&alice),
            json!({"new_passcode": "135791", "current_passcode": "246810"}),
        )
        .await);
    ok(app.patch("/api/security", Some(&alice), json!({"lock_after_minutes": 30})).await);
    ok(app.post("/api/security/lock", Some(&alice), json!({})).await);
    assert_eq!(
        app.post("/api/security/unlock", Some(&alice), json!({"passcode": "000000"})).await.status,
        401
    );
    let r = app.post("/api/security/unlock", Some(&alice), json!({"passcode": "135791"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let alice = r.body["token"].as_str().unwrap().to_owned();
    ok(app.post("/api/users/unlock-data", Some(&alice), json!({"password": USER_PASSWORD})).await);
    ok(app.delete_with("/api/security/passcode", Some(&alice), json!({"current_passcode": "135791"})).await);

    // Two-factor and every second step.
    let (secret, codes) = app.enable_totp(&alice).await;
    let t = temp_token_of(&app, "alice").await;
    let r = app
        .post("/api/users/totp/verify-login", None, json!({"temp_token": t, "totp_code": app.code(&secret)}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let alice = r.body["token"].as_str().unwrap().to_owned();
    let t = temp_token_of(&app, "alice").await;
    let r =
        app.post("/api/users/totp/verify-login", None, json!({"temp_token": t, "totp_code": codes[0]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = temp_token_of(&app, "alice").await;
    let r =
        app.post("/api/users/totp/verify-login", None, json!({"temp_token": t, "totp_code": "000000"})).await;
    assert_eq!(r.status, 401);
    app.clock.advance(30);
    ok(app.post("/api/users/totp/backup-codes", Some(&alice), json!({"totp_code": app.code(&secret)})).await);

    // A locked terminal, its grant, a ticket and the gateway redeeming it.
    ok(app.post("/api/security/terminal/cont_1/mfa-lock", Some(&alice), json!({})).await);
    app.clock.advance(30);
    ok(app
        .post("/api/security/terminal/cont_1/mfa-verify", Some(&alice), json!({"code": app.code(&secret)}))
        .await);
    let r = app.post("/api/auth/ws-ticket", Some(&alice), json!({"terminalId": "cont_1"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ticket = r.body["ticket"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/api/auth/ws-ticket/redeem",
            Some(GATEWAY_SECRET),
            json!({"ticket": ticket, "terminalId": "cont_1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.clock.advance(30);
    ok(app
        .post("/api/security/terminal/cont_1/mfa-unlock", Some(&alice), json!({"code": app.code(&secret)}))
        .await);

    // Sessions.
    let sessions = app.get("/api/users/sessions", Some(&alice)).await.body["sessions"].clone();
    let other = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["isCurrentSession"] != true && s["isRevoked"] != true)
        .expect("another live session")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(app.delete(&format!("/api/users/sessions/{other}"), Some(&alice)).await);
    ok(app.post("/api/users/sessions/revoke-all", Some(&alice), json!({"exceptCurrent": true})).await);
    ok(app.post("/api/security/single-session", Some(&alice), json!({"enabled": true})).await);

    // Admin actions.
    ok(app.post("/api/users/make-admin", Some(&admin), json!({"userId": alice_id})).await);
    ok(app.post("/api/users/remove-admin", Some(&admin), json!({"userId": alice_id})).await);
    ok(app.patch("/api/users/registration-allowed", Some(&admin), json!({"allowed": false})).await);
    let r = app
        .post("/api/users/api-keys", Some(&admin), json!({"name": "alice's script", "userId": alice_id}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (key, key_id) =
        (r.body["token"].as_str().unwrap().to_owned(), r.body["id"].as_str().unwrap().to_owned());
    assert_eq!(app.get("/api/users/me", Some(&key)).await.status, 200);
    app.clock.advance(60);
    assert_eq!(app.get("/api/users/me", Some(&key)).await.status, 200);
    ok(app.delete(&format!("/api/users/api-keys/{key_id}"), Some(&admin)).await);
    ok(app.post("/api/users/totp/reset", Some(&admin), json!({"userId": alice_id})).await);

    // The password: changed, then a reset from start to end.
    ok(app
        .post(
            "/api/users/change-password",
            Some(&alice),
            json!({"oldPassword": USER_PASSWORD, "newPassword": "amber-falcon-ridge-58"}),
        )
        .await);
    ok(app.post("/api/users/initiate-reset", None, json!({"username": "bob"})).await);
    let bad = app
        .post("/api/users/verify-reset-code", None, json!({"username": "bob", "resetCode": "999999"}))
        .await;
    assert_eq!(bad.status, 400);
    let code = reset_code("bob");
    let r =
        app.post("/api/users/verify-reset-code", None, json!({"username": "bob", "resetCode": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let temp_token = r.body["tempToken"].as_str().unwrap().to_owned();
    ok(app
        .post(
            "/api/users/complete-reset",
            None,
            json!({"username": "bob", "tempToken": temp_token, "newPassword": "copper-meadow-violin-39"}),
        )
        .await);
    assert_eq!(app.get("/api/auth/me", Some(&bob)).await.status, 401, "a reset ends bob's sessions");

    // Leaving.
    ok(app.delete_with("/api/users/delete-user", Some(&admin), json!({"username": "bob"})).await);
    ok(app.delete_with("/api/users/delete-account", Some(&carol), json!({"password": USER_PASSWORD})).await);
    ok(app.post("/api/auth/logout", Some(&admin), json!({})).await);
    let admin = app.login("admin", ADMIN_PASSWORD).await.0;

    let events = all_events(&app, &admin, "").await;
    // (type, outcome, actor, via, about): one table, one row per event the actions above cause.
    let expected: &[Expected] = &[
        ("setup_completed", "success", Some("admin"), "none", Some("admin")),
        ("registered", "success", Some("alice"), "none", Some("alice")),
        ("sign_in", "success", Some("alice"), "none", Some("alice")),
        ("sign_in", "failure", None, "none", Some("alice")),
        ("reauthenticated", "success", Some("admin"), "session", Some("admin")),
        ("passcode_set", "success", Some("alice"), "session", Some("alice")),
        ("passcode_changed", "success", Some("alice"), "session", Some("alice")),
        ("auto_lock_changed", "success", Some("alice"), "session", Some("alice")),
        ("screen_locked", "success", Some("alice"), "session", Some("alice")),
        ("screen_unlocked", "failure", Some("alice"), "session", Some("alice")),
        ("screen_unlocked", "success", Some("alice"), "session", Some("alice")),
        ("vault_unlocked", "success", Some("alice"), "session", Some("alice")),
        ("passcode_removed", "success", Some("alice"), "session", Some("alice")),
        ("two_factor_enabled", "success", Some("alice"), "session", Some("alice")),
        ("two_factor_disabled", "success", Some("bob"), "session", Some("bob")),
        ("second_step_required", "success", Some("alice"), "none", Some("alice")),
        ("backup_codes_regenerated", "success", Some("alice"), "session", Some("alice")),
        ("terminal_locked", "success", Some("alice"), "session", Some("alice")),
        ("terminal_granted", "success", Some("alice"), "session", Some("alice")),
        ("ws_ticket_issued", "success", Some("alice"), "session", Some("alice")),
        ("ws_ticket_redeemed", "success", None, "gateway", Some("alice")),
        ("terminal_unlocked", "success", Some("alice"), "session", Some("alice")),
        ("session_revoked", "success", Some("alice"), "session", Some("alice")),
        ("sessions_revoked_all", "success", Some("alice"), "session", Some("alice")),
        ("single_session_changed", "success", Some("alice"), "session", Some("alice")),
        ("role_changed", "success", Some("admin"), "session", Some("alice")),
        ("setting_changed", "success", Some("admin"), "session", Some("admin")),
        ("api_key_created", "success", Some("admin"), "session", Some("alice")),
        ("api_key_used", "success", Some("alice"), "api_key", Some("alice")),
        ("api_key_deleted", "success", Some("admin"), "session", Some("alice")),
        ("two_factor_reset", "success", Some("admin"), "session", Some("alice")),
        ("password_changed", "success", Some("alice"), "session", Some("alice")),
        ("password_reset_requested", "success", None, "none", Some("bob")),
        ("password_reset_code_verified", "failure", None, "none", Some("bob")),
        ("password_reset_code_verified", "success", None, "none", Some("bob")),
        ("password_reset_completed", "success", None, "none", Some("bob")),
        ("user_deleted", "success", Some("admin"), "session", Some("bob")),
        ("account_deleted", "success", Some("carol"), "session", Some("carol")),
        ("sign_out", "success", Some("admin"), "session", Some("admin")),
    ];
    for (kind, outcome, actor, via, about) in expected {
        let found = find(&events, kind, outcome);
        let e = found
            .iter()
            .find(|e| e["actor"]["username"].as_str() == *actor && e["actor"]["via"] == *via)
            .unwrap_or_else(|| panic!("no {kind}/{outcome} by {actor:?} via {via}: {found:#?}"));
        assert_eq!(e["user"]["username"].as_str(), *about, "{kind}: {e}");
        assert_eq!(e["ip"], "127.0.0.1", "{kind}: {e}");
        assert!(e["at"].as_str().unwrap().ends_with('Z'), "{e}");
        assert_eq!(e["outcome"] == "success", e["code"].is_null(), "a failure names its code: {e}");
    }
    // The details an admin needs, and how each sign-in was made.
    let sign_ins = find(&events, "sign_in", "success");
    for method in ["password", "totp", "backup_code"] {
        assert!(
            sign_ins.iter().any(|e| e["details"]["method"] == method),
            "a {method} sign-in: {sign_ins:#?}"
        );
    }
    assert!(sign_ins.iter().all(|e| e["userAgent"].as_str().unwrap().contains("Chrome")));
    assert_eq!(
        find(&events, "sign_in", "failure")[0]["code"],
        "invalid_code",
        "the newest failure: the wrong second step"
    );
    let setting = find(&events, "setting_changed", "success")[0];
    assert_eq!(
        (&setting["details"]["setting"], &setting["details"]["old"], &setting["details"]["new"]),
        (&json!("registration_allowed"), &json!("true"), &json!("false"))
    );
    assert_eq!(find(&events, "api_key_used", "success").len(), 1, "a key's use is recorded once an hour");
    assert_eq!(find(&events, "screen_unlocked", "failure")[0]["code"], "incorrect_passcode");
    let redeemed = find(&events, "ws_ticket_redeemed", "success")[0];
    assert_eq!(redeemed["target"], json!({"kind": "terminal", "id": "cont_1"}));

    // Nothing secret was stored: no password, passcode, code, token or key, neither in what the
    // API answers nor anywhere in the database file (or dump).
    let text = serde_json::to_string(&all_events(&app, &admin, "").await).unwrap();
    let at_rest = String::from_utf8_lossy(&app.at_rest()).into_owned();
    let mut secrets = vec![
        ADMIN_PASSWORD.to_owned(),
        USER_PASSWORD.to_owned(),
        "amber-falcon-ridge-58".into(),
        "copper-meadow-violin-39".into(),
        "135791".into(),
        "246810".into(),
        code,
        temp_token,
        key,
        ticket,
        alice,
        admin,
    ];
    secrets.extend(codes);
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a secret reached the audit log: {s}");
        assert!(!at_rest.contains(s.as_str()), "a secret is stored in the database: {s}");
    }
}

#[tokio::test]
async fn admins_filter_page_and_export_while_users_see_only_their_own_activity() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, alice_id) = app.user("alice").await;
    app.clock.advance(3600);
    for _ in 0..3 {
        let r = app
            .post("/api/users/login", None, json!({"username": "alice", "password": "not-her-password"}))
            .await;
        assert_eq!(r.status, 401);
    }
    // A name that is no account's is not kept (people type their password there).
    let r = app
        .post(
            "/api/users/login",
            None,
            json!({"username": "hunter2-my-password", "password": "whatever-it-is"}),
        )
        .await;
    assert_eq!(r.status, 401);
    app.clock.advance(3600);
    app.login("alice", USER_PASSWORD).await;

    let all = all_events(&app, &admin, "").await;
    let times: Vec<&str> = all.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    let paged = app.get("/api/admin/audit?limit=2", Some(&admin)).await;
    assert_eq!(paged.body["events"].as_array().unwrap().len(), 2);
    assert!(paged.body["nextCursor"].is_string());

    let by = |q: &'static str| all_events(&app, &admin, q);
    let failures = by("type=sign_in&outcome=failure").await;
    assert_eq!(failures.len(), 4, "{failures:#?}");
    assert_eq!(by("type=sign_in&outcome=failure&user=ALICE").await.len(), 3, "names match without case");
    let by_id = all_events(&app, &admin, &format!("user={alice_id}")).await;
    assert!(by_id
        .iter()
        .all(|e| e["user"]["id"] == alice_id.as_str() || e["actor"]["id"] == alice_id.as_str()));
    assert!(by_id.iter().any(|e| e["type"] == "registered"));
    assert_eq!(by("ip=10.9.9.9").await.len(), 0);
    assert_eq!(by("ip=127.0.0.1").await.len(), all.len());
    let since = START + 1800;
    let until = START + 3600 + 1800;
    let window = all_events(&app, &admin, &format!("since={since}&until={until}&type=sign_in")).await;
    assert_eq!(window.len(), 4, "only the hour of failures: {window:#?}");
    let rfc = all_events(&app, &admin, &format!("since={}", app::ssr::clock::rfc3339(START + 7200))).await;
    assert!(rfc.iter().all(|e| e["type"] == "sign_in" && e["outcome"] == "success"), "{rfc:#?}");
    for bad in [
        "type=nonsense",
        "outcome=maybe",
        "since=yesterday",
        "limit=0",
        "limit=1001",
        "cursor=%%%",
        "user=a%00b",
        "ip=%0a",
    ] {
        let r = app.get(&format!("/api/admin/audit?{bad}"), Some(&admin)).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_request"), "{bad}: {}", r.body);
    }

    // Exports hold the same events, whole, in both formats.
    let r = app.get("/api/admin/audit/export?format=ndjson&type=sign_in&outcome=failure", Some(&admin)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/x-ndjson");
    let lines: Vec<Value> =
        r.body.as_str().unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines, failures);
    let r = app.get("/api/admin/audit/export?format=csv&type=sign_in&outcome=failure", Some(&admin)).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-disposition"].to_str().unwrap().contains("portcullis-audit.csv"));
    let csv = r.body.as_str().unwrap();
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(rows[0].starts_with("id,at,type,outcome,code,"));
    assert_eq!(rows.len(), 1 + failures.len());
    assert!(rows[1..].iter().all(|r| r.contains(",sign_in,failure,invalid_credentials,")), "{csv}");
    assert!(!csv.contains("hunter2"), "{csv}");
    assert!(
        failures.iter().any(|e| e["user"].is_null() && e["details"]["unknown_account"] == true),
        "{failures:#?}"
    );
    let everything = app.get("/api/admin/audit/export", Some(&admin)).await;
    assert_eq!(everything.body.as_str().unwrap().lines().count(), all.len());
    assert_eq!(app.get("/api/admin/audit/export?format=xml", Some(&admin)).await.status, 400);

    // Not an admin: no log, no export, no retention; their own activity only.
    for path in ["/api/admin/audit", "/api/admin/audit/export", "/api/admin/audit/retention"] {
        assert_eq!(app.get(path, Some(&alice)).await.status, 403, "{path}");
        assert_eq!(app.get(path, None).await.status, 401, "{path}");
    }
    let mine = app.get("/api/users/activity", Some(&alice)).await;
    assert_eq!(mine.status, 200);
    let mine = mine.body["events"].as_array().unwrap().clone();
    assert!(mine.iter().all(|e| e["user"]["id"] == alice_id.as_str()), "{mine:#?}");
    assert_eq!(mine.iter().filter(|e| e["type"] == "sign_in" && e["outcome"] == "failure").count(), 3);
    assert!(!mine.iter().any(|e| e["type"] == "setup_completed"));
    let admins = app.get("/api/users/activity", Some(&admin)).await.body["events"].clone();
    assert!(admins.as_array().unwrap().iter().any(|e| e["type"] == "setup_completed"));
}

#[tokio::test]
async fn retention_is_an_admin_setting_and_pruning_removes_only_older_events() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    assert_eq!(app.get("/api/admin/audit/retention", Some(&admin)).await.body, json!({"days": 365}));
    for bad in [json!({"days": 0}), json!({"days": 3651}), json!({"days": "ten"})] {
        let r = app.send(reqwest::Method::PUT, "/api/admin/audit/retention", Some(&admin), Some(bad)).await;
        assert_eq!(r.status, 400, "{}", r.body);
    }
    let r = app
        .send(reqwest::Method::PUT, "/api/admin/audit/retention", Some(&admin), Some(json!({"days": 2})))
        .await;
    assert_eq!(r.body, json!({"days": 2}));
    let setting = &all_events(&app, &admin, "type=setting_changed").await[0];
    assert_eq!(setting["details"], json!({"setting": "audit_retention_days", "old": "365", "new": "2"}));

    app.clock.advance(3 * 86_400);
    let admin = app.login("admin", ADMIN_PASSWORD).await.0;
    let before = all_events(&app, &admin, "").await.len();
    let gone = app::ssr::services::audit::prune(&app.state).await.unwrap();
    let left = all_events(&app, &admin, "").await;
    assert_eq!(gone as usize, before - left.len());
    assert_eq!(gone, 3, "the first account, its set-up sign-in and the setting change were three days old");
    assert_eq!(left.len(), 1, "today's sign-in stays: {left:#?}");
    assert_eq!(left[0]["type"], "sign_in");
    // Shortening it erases history: a cookie left open for eleven minutes cannot.
    app.clock.advance(11 * 60);
    let r = app
        .send(reqwest::Method::PUT, "/api/admin/audit/retention", Some(&admin), Some(json!({"days": 1})))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "reauthentication_required"));
}

#[tokio::test]
async fn a_change_whose_event_cannot_be_written_does_not_happen() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    app.sql("ALTER TABLE audit_events RENAME TO audit_events_away").await;
    let r = app.patch("/api/users/registration-allowed", Some(&admin), json!({"allowed": false})).await;
    assert!(r.status.is_server_error(), "{}", r.body);
    let r = app.post("/api/users/sessions/revoke-all", Some(&alice), json!({})).await;
    assert!(r.status.is_server_error(), "{}", r.body);
    let r = app.post("/api/users/login", None, json!({"username": "alice", "password": USER_PASSWORD})).await;
    assert!(r.status.is_server_error(), "a sign-in that cannot be recorded starts no session: {}", r.body);
    app.sql("ALTER TABLE audit_events_away RENAME TO audit_events").await;
    assert_eq!(app.get("/api/users/registration-allowed", None).await.body, json!({"allowed": true}));
    assert_eq!(app.get("/api/auth/me", Some(&alice)).await.status, 200, "alice was not signed out");
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM sessions").await,
        2,
        "no session without its sign-in event"
    );
    assert_eq!(all_events(&app, &admin, "type=setting_changed").await.len(), 0);
}

#[tokio::test]
async fn a_limit_refusal_is_one_refused_event_naming_the_limit() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.user("alice").await;
    let mut statuses = Vec::new();
    for _ in 0..13 {
        let r = app
            .post("/api/users/login", None, json!({"username": "alice", "password": "not-her-password"}))
            .await;
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 3, "{statuses:?}");
    let failures = all_events(&app, &admin, "type=sign_in&outcome=failure").await;
    assert_eq!(failures.len(), 10, "each judged attempt is an event");
    let refused = all_events(&app, &admin, "outcome=refused").await;
    assert_eq!(refused.len(), 1, "three refusals in a minute are one event: {refused:#?}");
    assert_eq!(refused[0]["type"], "limit_reached");
    assert_eq!(refused[0]["code"], "rate_limited");
    assert_eq!(refused[0]["details"]["limit"], "login-user");
    assert_eq!(refused[0]["ip"], "127.0.0.1");
}
