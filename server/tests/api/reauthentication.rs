use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn factor_changes_need_a_sign_in_from_the_last_ten_minutes_or_the_password_again() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (t, _) = app.user("rhea").await;
    app.clock.advance(10 * 60 + 1);
    for (path, body) in
        [("/api/users/totp/setup", json!({})), ("/api/security/passcode", json!({"new_passcode": "480927"}))]
    {
        let r = app.post(path, Some(&t), body).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "reauthentication_required"), "{path}: {}", r.body);
    }
    let r = app.post("/api/users/reauthenticate", Some(&t), json!({"password": "not-the-password"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    let r = app.post("/api/users/reauthenticate", Some(&t), json!({"password": USER_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post("/api/users/totp/setup", Some(&t), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post("/api/security/passcode", Some(&t), json!({"new_passcode": "480927"})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Changing an existing passcode proves itself with the current one.
    app.clock.advance(10 * 60 + 1);
    let r = app
        .post(
            "/api/security/passcode",
            Some(&t),
            json!({"new_passcode": "719358", "current_passcode": "480927"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post("/api/users/totp/backup-codes", Some(&t), json!({"password": USER_PASSWORD})).await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "reauthentication_required"),
        "new backup codes need it too: {}",
        r.body
    );
}

#[tokio::test]
async fn a_stolen_cookie_cannot_turn_on_two_factor_after_ten_minutes() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (t, _) = app.user("sam").await;
    let r = app.post("/api/users/totp/setup", Some(&t), json!({})).await;
    let secret = base32_decode(r.body["secret"].as_str().unwrap());
    app.clock.advance(10 * 60 + 1);
    let r = app.post("/api/users/totp/enable", Some(&t), json!({"totp_code": app.code(&secret)})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "reauthentication_required"), "{}", r.body);
}

#[tokio::test]
async fn an_admin_resets_a_users_two_factor_and_the_user_signs_in_with_the_password_alone() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (t, id) = app.user("tess").await;
    app.enable_totp(&t).await;
    let r = app.post("/api/users/login", None, json!({"username": "tess", "password": USER_PASSWORD})).await;
    assert_eq!(r.body["requires_totp"], true);

    let r = app.post("/api/users/totp/reset", Some(&t), json!({"userId": id})).await;
    assert_eq!(r.status, 403, "only an admin");
    let r = app.post("/api/users/totp/reset", Some(&admin), json!({"userId": id})).await;
    assert_eq!(r.body, json!({"success": true}));
    let r = app.post("/api/users/login", None, json!({"username": "tess", "password": USER_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("requires_totp").is_none(), "{}", r.body);
    let me = app.get("/api/users/me", Some(r.body["token"].as_str().unwrap())).await;
    assert_eq!(me.body["totp_enabled"], false);
    let r = app.post("/api/users/totp/reset", Some(&admin), json!({"userId": "no-such-user"})).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn an_admin_cookie_alone_cannot_hand_out_a_way_in() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, id) = app.user("uma").await;
    app.clock.advance(10 * 60 + 1);
    for (path, body) in [
        ("/api/users/api-keys", json!({"name": "bot", "userId": id})),
        ("/api/users/make-admin", json!({"userId": id})),
        (
            "/api/users/oidc-config",
            json!({"client_id": "x", "client_secret": "y", "issuer_url": "http://127.0.0.1:9", "authorization_url": "http://127.0.0.1:9/a", "token_url": "http://127.0.0.1:9/t"}),
        ),
        ("/api/users/totp/reset", json!({"userId": id})),
    ] {
        let r = app.post(path, Some(&admin), body).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "reauthentication_required"), "{path}: {}", r.body);
    }
    let r = app
        .send(reqwest::Method::PUT, "/api/auth/ldap/config", Some(&admin), Some(json!({"url": "ldap://127.0.0.1:9", "bindDn": "cn=x", "bindPassword": "p", "searchBase": "dc=x"})))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "reauthentication_required"), "{}", r.body);
    app.post("/api/users/reauthenticate", Some(&admin), json!({"password": ADMIN_PASSWORD})).await;
    let r = app.post("/api/users/api-keys", Some(&admin), json!({"name": "bot", "userId": id})).await;
    assert_eq!(r.status, 201, "{}", r.body);
}
