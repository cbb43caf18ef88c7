use crate::helpers::*;
use serde_json::json;

const SECRET_VALUE: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK-very-private";

/// Registers `name`, unlocks their vault (creating it) and stores one item; answers the token.
async fn user_with_item(app: &TestApp, name: &str) -> String {
    let (token, _) = app.user(name).await;
    let r = app.post("/api/users/unlock-data", Some(&token), json!({"password": USER_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .send(
            reqwest::Method::PUT,
            "/api/users/vault/prod-key",
            Some(&token),
            Some(json!({"value": SECRET_VALUE})),
        )
        .await;
    assert_eq!(r.body, json!({"success": true}));
    token
}

async fn items(app: &TestApp, token: &str) -> crate::helpers::Reply {
    app.get("/api/users/vault", Some(token)).await
}

#[tokio::test]
async fn the_vault_is_locked_until_the_password_unlocks_it() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (token, _) = app.user("alice").await;
    let status = app.get("/api/users/data-status", Some(&token)).await;
    assert_eq!(status.body["unlocked"], false);
    assert!(status.body["message"].is_string());
    let r = items(&app, &token).await;
    assert_eq!((r.status.as_u16(), r.code()), (423, "data_locked"));
    let r =
        app.send(reqwest::Method::PUT, "/api/users/vault/x", Some(&token), Some(json!({"value": "v"}))).await;
    assert_eq!(r.status, 423, "nothing is written while locked");
    let r = app.post("/api/users/unlock-data", Some(&token), json!({"password": "not-my-password"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    assert_eq!(app.post("/api/users/unlock-data", Some(&token), json!({})).await.status, 400);
    let r = app.post("/api/users/unlock-data", Some(&token), json!({"password": USER_PASSWORD})).await;
    assert_eq!(r.body["success"], true);
    assert_eq!(app.get("/api/users/data-status", Some(&token)).await.body["unlocked"], true);
    assert_eq!(app.get("/api/users/me", Some(&token)).await.body["data_unlocked"], true);
    assert_eq!(items(&app, &token).await.body, json!({"items": []}));
    let r = app
        .send(
            reqwest::Method::PUT,
            "/api/users/vault/prod-key",
            Some(&token),
            Some(json!({"value": SECRET_VALUE})),
        )
        .await;
    assert_eq!(r.body, json!({"success": true}));
    let r = items(&app, &token).await;
    assert_eq!(r.body["items"][0]["name"], "prod-key");
    assert_eq!(r.body["items"][0]["value"], SECRET_VALUE);
    assert!(r.body["items"][0]["updated_at"].is_string());
}

#[tokio::test]
async fn items_are_stored_encrypted_and_survive_a_restart_behind_the_password() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let token = user_with_item(&app, "alice").await;
    let stored = app.at_rest();
    assert!(
        !stored.windows(SECRET_VALUE.len()).any(|w| w == SECRET_VALUE.as_bytes()),
        "no plaintext on disk"
    );
    // Another node on the same database (or this one after a restart) reads the open vault
    // with the session's token: the key sealed for the session opens only with it.
    let again = spawn_app_in(app.dir.clone(), app.clock.clone()).await;
    assert_eq!(items(&again, &token).await.body["items"][0]["value"], SECRET_VALUE);
    // The secret that opens it travels only in the token: the database never holds it.
    let claims = token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap())
            .unwrap();
    let secret = claims["vk"].as_str().expect("the session token carries its vault secret");
    assert!(!app.at_rest().windows(secret.len()).any(|w| w == secret.as_bytes()));
    // Signing out ends it for every node.
    assert_eq!(app.post("/api/users/logout", Some(&token), json!({})).await.status, 200);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM sessions WHERE vault_key_sealed IS NOT NULL").await, 0);
}

#[tokio::test]
async fn a_password_sign_in_unlocks_an_existing_vault_also_after_the_second_step() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let token = user_with_item(&app, "alice").await;
    let (fresh, _) = app.login("alice", USER_PASSWORD).await;
    assert_eq!(items(&app, &fresh).await.body["items"][0]["value"], SECRET_VALUE);
    let (secret, _) = app.enable_totp(&token).await;
    let r = app.post("/api/users/login", None, json!({"username": "alice", "password": USER_PASSWORD})).await;
    let temp = r.body["temp_token"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": temp, "totp_code": app.code(&secret)}),
        )
        .await;
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(items(&app, &token).await.body["items"][0]["value"], SECRET_VALUE);
}

#[tokio::test]
async fn unlocking_the_screen_keeps_the_vault_open_for_the_new_token() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let token = user_with_item(&app, "alice").await;
    app.post("/api/security/passcode", Some(&token), json!({"new_passcode": "135790"})).await;
    app.post("/api/security/lock", Some(&token), json!({})).await;
    assert_eq!(items(&app, &token).await.status, 403, "the screen lock comes first");
    let r = app.post("/api/security/unlock", Some(&token), json!({"passcode": "135790"})).await;
    let fresh = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(items(&app, &fresh).await.body["items"][0]["value"], SECRET_VALUE);
}

#[tokio::test]
async fn a_password_change_keeps_the_data_and_a_reset_clears_it() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let token = user_with_item(&app, "alice").await;
    let new_password = "sturdy-meadow-copper-58";
    let r = app
        .post(
            "/api/users/change-password",
            Some(&token),
            json!({"oldPassword": USER_PASSWORD, "newPassword": new_password}),
        )
        .await;
    assert_eq!(r.status, 200);
    let (token, _) = app.login("alice", new_password).await;
    assert_eq!(items(&app, &token).await.body["items"][0]["value"], SECRET_VALUE, "re-wrapped, not lost");

    app.post("/api/users/initiate-reset", None, json!({"username": "alice"})).await;
    let log = server_log();
    let at = log.rfind("username=alice code=").unwrap() + "username=alice code=".len();
    let code = log[at..at + 6].to_owned();
    let temp = app
        .post("/api/users/verify-reset-code", None, json!({"username": "alice", "resetCode": code}))
        .await
        .body["tempToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset = "quartz-harbor-mosaic-35";
    let r = app
        .post(
            "/api/users/complete-reset",
            None,
            json!({"username": "alice", "tempToken": temp, "newPassword": reset}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (token, _) = app.login("alice", reset).await;
    assert_eq!(items(&app, &token).await.status, 423, "the old vault is gone");
    app.post("/api/users/unlock-data", Some(&token), json!({"password": reset})).await;
    assert_eq!(items(&app, &token).await.body, json!({"items": []}));
}

#[tokio::test]
async fn item_input_is_checked_and_deleting_needs_an_existing_item() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let token = user_with_item(&app, "alice").await;
    let long = format!("/api/users/vault/{}", "n".repeat(129));
    assert_eq!(
        app.send(reqwest::Method::PUT, &long, Some(&token), Some(json!({"value": "v"}))).await.status,
        400
    );
    let big = "x".repeat(64 * 1024 + 1);
    assert_eq!(
        app.send(reqwest::Method::PUT, "/api/users/vault/big", Some(&token), Some(json!({"value": big})))
            .await
            .status,
        400
    );
    assert_eq!(
        app.send(reqwest::Method::PUT, "/api/users/vault/n", Some(&token), Some(json!({"value": 5})))
            .await
            .status,
        400
    );
    assert_eq!(app.delete("/api/users/vault/nothing", Some(&token)).await.status, 404);
    assert_eq!(app.delete("/api/users/vault/prod-key", Some(&token)).await.body, json!({"success": true}));
    assert_eq!(items(&app, &token).await.body, json!({"items": []}));
    // Another user's session sees only its own (locked) vault; an API key has no session.
    assert_eq!(items(&app, &admin).await.status, 423);
    let (_, alice_id) = app.login("alice", USER_PASSWORD).await;
    let key =
        app.post("/api/users/api-keys", Some(&admin), json!({"name": "k", "userId": alice_id})).await.body
            ["token"]
            .as_str()
            .unwrap()
            .to_owned();
    let r = items(&app, &key).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "session_required"));
}

#[tokio::test]
async fn an_api_key_can_neither_read_nor_change_the_vault() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (t, id) = app.user("vic").await;
    app.post("/api/users/unlock-data", Some(&t), json!({"password": USER_PASSWORD})).await;
    let r =
        app.send(reqwest::Method::PUT, "/api/users/vault/ssh", Some(&t), Some(json!({"value": "k"}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let key = app.post("/api/users/api-keys", Some(&admin), json!({"name": "bot", "userId": id})).await.body
        ["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for r in [
        app.get("/api/users/vault", Some(&key)).await,
        app.send(reqwest::Method::PUT, "/api/users/vault/ssh", Some(&key), Some(json!({"value": "x"}))).await,
        app.delete("/api/users/vault/ssh", Some(&key)).await,
        app.post("/api/users/unlock-data", Some(&key), json!({"password": USER_PASSWORD})).await,
    ] {
        assert_eq!((r.status.as_u16(), r.code()), (403, "session_required"), "{}", r.body);
    }
    let items = app.get("/api/users/vault", Some(&t)).await;
    assert_eq!(items.body["items"][0]["name"], "ssh", "nothing was deleted");
}

#[tokio::test]
async fn a_sign_in_waiting_for_its_second_step_dies_with_a_password_change() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let token = user_with_item(&app, "alice").await;
    let (secret, _) = app.enable_totp(&token).await;
    // Someone who knows the old password gets as far as the second step…
    let r = app.post("/api/users/login", None, json!({"username": "alice", "password": USER_PASSWORD})).await;
    let temp = r.body["temp_token"].as_str().unwrap().to_owned();
    // …then the owner changes the password.
    let fresh = {
        let r = app
            .post(
                "/api/users/totp/verify-login",
                None,
                json!({"temp_token": app.post("/api/users/login", None, json!({"username": "alice", "password": USER_PASSWORD})).await.body["temp_token"], "totp_code": app.code(&secret)}),
            )
            .await;
        r.body["token"].as_str().unwrap().to_owned()
    };
    let r = app
        .post(
            "/api/users/change-password",
            Some(&fresh),
            json!({"oldPassword": USER_PASSWORD, "newPassword": "brand-new-orbit-lantern-52"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.clock.advance(30);
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": temp, "totp_code": app.code(&secret)}),
        )
        .await;
    assert_eq!(r.status, 401, "the old password's sign-in is over: {}", r.body);
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM mfa_challenges WHERE vault_key_sealed IS NOT NULL").await,
        0
    );
}
