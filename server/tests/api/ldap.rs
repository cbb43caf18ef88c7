use crate::directory::{self, LARA_PASSWORD, PEOPLE, READER_DN, READER_PASSWORD};
use crate::helpers::*;
use serde_json::{json, Value};

fn config(url: &str) -> Value {
    json!({"url": url, "bindDn": READER_DN, "bindPassword": READER_PASSWORD, "searchBase": PEOPLE})
}

/// An instance with its admin and LDAP sign-in pointed at a fresh directory.
async fn with_directory() -> (TestApp, String, directory::Directory) {
    let dir = directory::start();
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r =
        app.send(reqwest::Method::PUT, "/api/auth/ldap/config", Some(&admin), Some(config(&dir.url))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (app, admin, dir)
}

#[tokio::test]
async fn a_directory_user_signs_in_and_gets_a_linked_account() {
    let (app, admin, _dir) = with_directory().await;
    assert_eq!(app.get("/api/auth/providers", None).await.body["ldap"], true);
    let r =
        app.post("/api/auth/login/ldap", None, json!({"username": "lara", "password": LARA_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["username"], "lara");
    assert_eq!(r.body["user"]["displayName"], "Lara Croft", "display name from the directory");
    assert_eq!(r.body["user"]["role"], "user");
    assert!(r.set_cookie().contains("jwt="));
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/auth/me", Some(&token)).await.body["user"]["username"], "lara");
    // The same account the next time, and the local password routes do not know it.
    let again =
        app.post("/api/auth/login/ldap", None, json!({"username": "LARA", "password": LARA_PASSWORD})).await;
    assert_eq!(again.body["user"]["id"], r.body["user"]["id"]);
    let r = app.post("/api/auth/login", None, json!({"username": "lara", "password": LARA_PASSWORD})).await;
    assert_eq!(r.status, 401, "no local password");
    assert_eq!(app.get("/api/users/count", Some(&admin)).await.body, json!({"count": 2}));
    // The audit log: the settings saved, lara's account made at her first sign-in, both sign-ins.
    let events = |q: &'static str| {
        let (app, admin) = (&app, &admin);
        async move { app.get(&format!("/api/admin/audit?{q}"), Some(admin)).await.body["events"].clone() }
    };
    assert_eq!(events("type=ldap_config_changed").await[0]["details"], json!({"action": "saved"}));
    assert_eq!(
        events("type=registered&user=lara").await[0]["details"],
        json!({"method": "ldap", "admin": false})
    );
    let sign_ins = events("type=sign_in&outcome=success&user=lara").await;
    assert_eq!(sign_ins.as_array().unwrap().len(), 2);
    assert!(sign_ins.as_array().unwrap().iter().all(|e| e["details"]["method"] == "ldap"));
    let failed = events("type=sign_in&outcome=failure&user=lara").await;
    assert_eq!(failed[0]["details"]["method"], "password", "the local route knows no password for lara");
}

#[tokio::test]
async fn wrong_passwords_unknown_names_and_empty_passwords_are_refused() {
    let (app, _admin, _dir) = with_directory().await;
    for (user, pass) in [
        ("lara", "wrong-password"),
        ("nobody", LARA_PASSWORD),
        ("*", LARA_PASSWORD),
        ("lara)(uid=*", LARA_PASSWORD),
    ] {
        let r = app.post("/api/auth/login/ldap", None, json!({"username": user, "password": pass})).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"), "{user}");
    }
    // An empty password would be an anonymous bind, which a directory accepts.
    let r = app.post("/api/auth/login/ldap", None, json!({"username": "lara", "password": ""})).await;
    assert_eq!(r.status, 400);
    assert_eq!(app.post("/api/auth/login/ldap", None, json!({"username": "lara"})).await.status, 400);
}

#[tokio::test]
async fn a_directory_name_never_takes_over_a_local_account() {
    let (app, _admin, _dir) = with_directory().await;
    let r = app
        .post(
            "/api/auth/login/ldap",
            None,
            json!({"username": "admin", "password": "directory-admin-pass-55"}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "account_conflict"));
    app.login("admin", ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn directory_sign_in_keeps_two_factor_and_single_session_mode() {
    let (app, _admin, _dir) = with_directory().await;
    let first =
        app.post("/api/auth/login/ldap", None, json!({"username": "lara", "password": LARA_PASSWORD})).await;
    let token = first.body["token"].as_str().unwrap().to_owned();
    let (secret, _) = app.enable_totp(&token).await;
    let r =
        app.post("/api/auth/login/ldap", None, json!({"username": "lara", "password": LARA_PASSWORD})).await;
    assert_eq!(r.body["mfaRequired"], true, "{}", r.body);
    let mfa = r.body["mfaToken"].as_str().unwrap().to_owned();
    let r = app.post("/api/auth/login/mfa", None, json!({"mfaToken": mfa, "code": app.code(&secret)})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = r.body["token"].as_str().unwrap().to_owned();
    app.post("/api/security/single-session", Some(&second), json!({"enabled": true})).await;
    app.clock.advance(30);
    let r =
        app.post("/api/auth/login/ldap", None, json!({"username": "lara", "password": LARA_PASSWORD})).await;
    let mfa = r.body["mfaToken"].as_str().unwrap().to_owned();
    app.post("/api/auth/login/mfa", None, json!({"mfaToken": mfa, "code": app.code(&secret)})).await;
    assert_eq!(app.get("/api/auth/me", Some(&second)).await.status, 401, "single-session mode signed it out");
}

#[tokio::test]
async fn ldap_sign_in_is_off_until_configured_and_a_dead_directory_is_503() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r =
        app.post("/api/auth/login/ldap", None, json!({"username": "lara", "password": LARA_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "ldap_disabled"));
    assert_eq!(app.get("/api/auth/providers", None).await.body["ldap"], false);
    let dead = format!(
        "ldap://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    app.send(reqwest::Method::PUT, "/api/auth/ldap/config", Some(&admin), Some(config(&dead))).await;
    let r =
        app.post("/api/auth/login/ldap", None, json!({"username": "lara", "password": LARA_PASSWORD})).await;
    assert_eq!(r.status, 503, "{}", r.body);
    let mut off = config(&dead);
    off["enabled"] = json!(false);
    app.send(reqwest::Method::PUT, "/api/auth/ldap/config", Some(&admin), Some(off)).await;
    let r =
        app.post("/api/auth/login/ldap", None, json!({"username": "lara", "password": LARA_PASSWORD})).await;
    assert_eq!(r.code(), "ldap_disabled");
}

#[tokio::test]
async fn the_connection_test_reports_what_the_directory_says() {
    let dir = directory::start();
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    assert_eq!(app.post("/api/auth/ldap/test", Some(&alice), config(&dir.url)).await.status, 403);
    assert_eq!(app.post("/api/auth/ldap/test", None, config(&dir.url)).await.status, 401);
    let r = app.post("/api/auth/ldap/test", Some(&admin), config(&dir.url)).await;
    assert_eq!(r.body, json!({"success": true}));
    let mut wrong = config(&dir.url);
    wrong["bindPassword"] = json!("not-it");
    let r = app.post("/api/auth/ldap/test", Some(&admin), wrong).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["success"], false);
    assert!(r.body["error"].as_str().unwrap().contains("49"), "invalid credentials: {}", r.body);
    let mut missing = config(&dir.url);
    missing["searchBase"] = json!("ou=nowhere,dc=example,dc=org");
    assert_eq!(app.post("/api/auth/ldap/test", Some(&admin), missing).await.body["success"], false);
    let mut bad = config(&dir.url);
    bad["url"] = json!("http://example.org");
    assert_eq!(app.post("/api/auth/ldap/test", Some(&admin), bad).await.status, 400);
}

#[tokio::test]
async fn the_bind_password_is_sealed_and_never_returned() {
    let (app, admin, dir) = with_directory().await;
    let r = app.get("/api/auth/ldap/config", Some(&admin)).await;
    assert_eq!(r.body["url"], dir.url.as_str());
    assert_eq!(r.body["hasBindPassword"], true);
    assert!(!r.body.to_string().contains(READER_PASSWORD));
    let stored = app.at_rest();
    assert!(
        !stored.windows(READER_PASSWORD.len()).any(|w| w == READER_PASSWORD.as_bytes()),
        "sealed at rest"
    );
    // Saving without a password keeps the stored one.
    let mut keep = config(&dir.url);
    keep.as_object_mut().unwrap().remove("bindPassword");
    assert_eq!(
        app.send(reqwest::Method::PUT, "/api/auth/ldap/config", Some(&admin), Some(keep)).await.status,
        200
    );
    let r =
        app.post("/api/auth/login/ldap", None, json!({"username": "lara", "password": LARA_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (alice, _) = app.user("alice").await;
    assert_eq!(app.get("/api/auth/ldap/config", Some(&alice)).await.status, 403);
    assert_eq!(app.delete("/api/auth/ldap/config", Some(&admin)).await.status, 200);
    assert_eq!(app.get("/api/auth/providers", None).await.body["ldap"], false);
}
