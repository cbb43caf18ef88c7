use crate::helpers::*;
use serde_json::json;

async fn make_key(
    app: &TestApp,
    admin: &str,
    user_id: &str,
    body_extra: serde_json::Value,
) -> crate::helpers::Reply {
    let mut body = json!({"name": "deploy bot", "userId": user_id});
    if let (Some(b), Some(extra)) = (body.as_object_mut(), body_extra.as_object()) {
        b.extend(extra.clone());
    }
    app.post("/api/users/api-keys", Some(admin), body).await
}

#[tokio::test]
async fn an_api_key_is_shown_once_and_acts_as_its_user() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice_id) = app.user("alice").await;
    let r = make_key(&app, &admin, &alice_id, json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert!(
        token.starts_with("pcs_") && token.len() == 68 && token[4..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );
    assert_eq!(r.body["tokenPrefix"], token[..12]);
    assert_eq!(r.body["username"], "alice");
    assert_eq!(r.body["expiresAt"], serde_json::Value::Null);
    let me = app.get("/api/users/me", Some(&token)).await;
    assert_eq!((me.status.as_u16(), me.body["username"].as_str()), (200, Some("alice")));
    assert_eq!(app.get("/api/auth/me", Some(&token)).await.body["user"]["role"], "user");
    let list = app.get("/api/users/api-keys", Some(&admin)).await;
    let keys = list.body["apiKeys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].get("token").is_none(), "the key is never shown again");
    assert!(!list.body.to_string().contains(&token[12..]), "no part of the secret beyond the prefix");
    assert!(keys[0]["lastUsedAt"].is_string(), "use is recorded");
}

#[tokio::test]
async fn a_deleted_or_expired_key_is_refused_at_once() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice_id) = app.user("alice").await;
    let r = make_key(&app, &admin, &alice_id, json!({})).await;
    let (token, id) =
        (r.body["token"].as_str().unwrap().to_owned(), r.body["id"].as_str().unwrap().to_owned());
    assert_eq!(
        app.delete(&format!("/api/users/api-keys/{id}"), Some(&admin)).await.body,
        json!({"success": true})
    );
    assert_eq!(app.get("/api/users/me", Some(&token)).await.status, 401);
    assert_eq!(app.delete(&format!("/api/users/api-keys/{id}"), Some(&admin)).await.status, 404);

    let soon = app::ssr::clock::rfc3339(app.now() + 3600);
    let r = make_key(&app, &admin, &alice_id, json!({"expiresAt": soon})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["expiresAt"], soon);
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/users/me", Some(&token)).await.status, 200);
    app.clock.advance(3600);
    assert_eq!(app.get("/api/users/me", Some(&token)).await.status, 401, "expired");
    // A made-up key of the right shape is nobody.
    assert_eq!(app.get("/api/users/me", Some(&format!("pcs_{}", "0".repeat(64)))).await.status, 401);
}

#[tokio::test]
async fn only_signed_in_admins_manage_keys_and_never_with_a_key() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, alice_id) = app.user("alice").await;
    let (_, admin_id) = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(make_key(&app, &alice, &alice_id, json!({})).await.status, 403);
    assert_eq!(app.get("/api/users/api-keys", Some(&alice)).await.status, 403);
    let r = make_key(&app, &admin, &admin_id, json!({})).await;
    let admin_key = r.body["token"].as_str().unwrap().to_owned();
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/users/count", Some(&admin_key)).await.status, 200, "the key acts as its admin");
    let r = make_key(&app, &admin_key, &alice_id, json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "forbidden"), "a key cannot make keys");
    assert_eq!(
        app.delete(&format!("/api/users/api-keys/{id}"), Some(&admin_key)).await.status,
        403,
        "nor delete them"
    );
    assert_eq!(app.get("/api/users/api-keys", Some(&admin_key)).await.status, 403);
    // Session-bound actions need a session.
    let r = app.post("/api/auth/ws-ticket", Some(&admin_key), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "session_required"));
    let r = app.post("/api/users/logout", Some(&admin_key), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "session_required"));
}

#[tokio::test]
async fn key_creation_checks_its_input() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice_id) = app.user("alice").await;
    assert_eq!(make_key(&app, &admin, "no-such-user", json!({})).await.status, 404);
    for bad in [
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"expiresAt": "next week"}),
        json!({"expiresAt": "2001-01-01T00:00:00Z"}),
        json!({"name": 5}),
    ] {
        let r = make_key(&app, &admin, &alice_id, bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert_eq!(
        app.post("/api/users/api-keys", Some(&admin), json!({"name": "x"})).await.status,
        400,
        "userId missing"
    );
    assert_eq!(
        app.get("/api/users/api-keys", Some(&admin)).await.body,
        json!({"apiKeys": []}),
        "nothing half-made"
    );
}

#[tokio::test]
async fn a_screen_lock_does_not_strand_an_api_key() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, alice_id) = app.user("alice").await;
    let token = make_key(&app, &admin, &alice_id, json!({})).await.body["token"].as_str().unwrap().to_owned();
    app.post("/api/security/passcode", Some(&alice), json!({"new_passcode": "246810"})).await;
    assert_eq!(app.post("/api/security/lock", Some(&alice), json!({})).await.status, 200);
    assert_eq!(app.get("/api/users/me", Some(&alice)).await.status, 403);
    assert_eq!(app.get("/api/users/me", Some(&token)).await.status, 200);
}
