use crate::helpers::*;
use serde_json::json;

const NEW_PASSWORD: &str = "sturdy-meadow-copper-58";

/// The code the server wrote to its log for this user (the last one).
fn logged_code(username: &str) -> String {
    let log = server_log();
    let needle = format!("username={username} code=");
    let at = log.rfind(&needle).unwrap_or_else(|| panic!("no reset code for {username} in the log"));
    log[at + needle.len()..at + needle.len() + 6].to_owned()
}

#[tokio::test]
async fn a_reset_code_from_the_log_sets_a_new_password_and_ends_every_session() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (session, _) = app.user("rosalind").await;
    let r = app.post("/api/users/initiate-reset", None, json!({"username": "rosalind"})).await;
    assert_eq!(r.status, 200);
    let unknown = app.post("/api/users/initiate-reset", None, json!({"username": "nobody-here"})).await;
    assert_eq!(unknown.body, r.body, "the answer does not tell whether the account exists");
    let code = logged_code("rosalind");
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    let r = app
        .post("/api/users/verify-reset-code", None, json!({"username": "rosalind", "resetCode": code}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let temp = r.body["tempToken"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/users/me", Some(&temp)).await.status,
        401,
        "a reset token is not a session token"
    );
    let r = app
        .post(
            "/api/users/complete-reset",
            None,
            json!({"username": "rosalind", "tempToken": temp, "newPassword": "password123"}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (400, "weak_password"),
        "a weak password does not spend the token"
    );
    let r = app
        .post(
            "/api/users/complete-reset",
            None,
            json!({"username": "rosalind", "tempToken": temp, "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(r.body["success"], true, "{}", r.body);
    assert_eq!(app.get("/api/users/me", Some(&session)).await.status, 401, "old sessions end");
    app.login("rosalind", NEW_PASSWORD).await;
    let r = app
        .post(
            "/api/users/complete-reset",
            None,
            json!({"username": "rosalind", "tempToken": temp, "newPassword": "another-fine-pass-93"}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_token"), "the token works once");
    let r = app
        .post("/api/users/verify-reset-code", None, json!({"username": "rosalind", "resetCode": code}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_code"), "the code works once");
}

#[tokio::test]
async fn a_code_expires_after_15_minutes_and_the_token_after_10() {
    let app = spawn_app().await;
    app.setup_admin().await;
    app.user("theodora").await;
    app.post("/api/users/initiate-reset", None, json!({"username": "theodora"})).await;
    let code = logged_code("theodora");
    app.clock.advance(15 * 60);
    let r = app
        .post("/api/users/verify-reset-code", None, json!({"username": "theodora", "resetCode": code}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_code"));
    app.post("/api/users/initiate-reset", None, json!({"username": "theodora"})).await;
    let code = logged_code("theodora");
    let temp = app
        .post("/api/users/verify-reset-code", None, json!({"username": "theodora", "resetCode": code}))
        .await
        .body["tempToken"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(10 * 60);
    let r = app
        .post(
            "/api/users/complete-reset",
            None,
            json!({"username": "theodora", "tempToken": temp, "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_token"));
    app.login("theodora", USER_PASSWORD).await;
}

#[tokio::test]
async fn wrong_codes_are_limited_to_five_per_15_minutes() {
    let app = spawn_app().await;
    app.setup_admin().await;
    app.user("bartholomew").await;
    app.post("/api/users/initiate-reset", None, json!({"username": "bartholomew"})).await;
    let code = logged_code("bartholomew");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = app
            .post(
                "/api/users/verify-reset-code",
                None,
                json!({"username": "bartholomew", "resetCode": wrong}),
            )
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_code"));
    }
    let r = app
        .post("/api/users/verify-reset-code", None, json!({"username": "bartholomew", "resetCode": code}))
        .await;
    assert_eq!(r.status, 429, "even the right code waits");
    assert!(r.body["remainingTime"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn reset_input_is_checked_and_the_feature_can_be_turned_off() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.user("cornelius").await;
    assert_eq!(app.post("/api/users/initiate-reset", None, json!({})).await.status, 400);
    assert_eq!(app.post("/api/users/initiate-reset", None, json!({"username": ""})).await.status, 400);
    let r = app
        .post("/api/users/verify-reset-code", None, json!({"username": "cornelius", "resetCode": "12ab56"}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_code"));
    assert_eq!(
        app.post("/api/users/verify-reset-code", None, json!({"username": "cornelius"})).await.status,
        400
    );
    let r = app
        .post(
            "/api/users/complete-reset",
            None,
            json!({"username": "cornelius", "tempToken": "nonsense", "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_token"));
    // A session token is not a reset token.
    let (session, _) = app.login("cornelius", USER_PASSWORD).await;
    let r = app
        .post(
            "/api/users/complete-reset",
            None,
            json!({"username": "cornelius", "tempToken": session, "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_token"));
    let r = app
        .post(
            "/api/users/complete-reset",
            None,
            json!({"username": "ghost", "tempToken": "x", "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 400, "a bad token is refused before the name is looked up");
    app.patch("/api/users/password-reset-allowed", Some(&admin), json!({"allowed": false})).await;
    let r = app.post("/api/users/initiate-reset", None, json!({"username": "cornelius"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "password_reset_disabled"));
}

#[tokio::test]
async fn a_reset_token_for_one_user_does_not_reset_another() {
    let app = spawn_app().await;
    app.setup_admin().await;
    app.user("ignatius").await;
    app.user("philippa").await;
    app.post("/api/users/initiate-reset", None, json!({"username": "ignatius"})).await;
    let code = logged_code("ignatius");
    let temp = app
        .post("/api/users/verify-reset-code", None, json!({"username": "ignatius", "resetCode": code}))
        .await
        .body["tempToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post(
            "/api/users/complete-reset",
            None,
            json!({"username": "philippa", "tempToken": temp, "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_token"));
    app.login("philippa", USER_PASSWORD).await;
}
