use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn a_terminal_lock_needs_two_factor_sign_in() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let r = app.post("/api/security/terminal/cont_123/mfa-lock", Some(&t), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "mfa_required"));
    let r = app.get("/api/security/terminal/cont_123/mfa-status", Some(&t)).await;
    assert_eq!(r.body, json!({"locked": false, "locked_at": null}));
}

#[tokio::test]
async fn a_container_id_longer_than_128_or_with_spaces_is_400() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let long = "x".repeat(129);
    let r = app.get(&format!("/api/security/terminal/{long}/mfa-status"), Some(&t)).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_container_id"));
    let r = app.get("/api/security/terminal/a%20b/mfa-status", Some(&t)).await;
    assert_eq!(r.status, 400);
    let r = app.post("/api/auth/ws-ticket", Some(&t), json!({"terminalId": "a b"})).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn a_locked_terminal_needs_a_verified_grant_for_a_ticket_which_expires_after_15_minutes() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&t).await;
    let r = app.post("/api/security/terminal/cont_123/mfa-lock", Some(&t), json!({})).await;
    assert_eq!(r.body["locked"], true);
    let locked_at = r.body["locked_at"].clone();
    let r = app.get("/api/security/terminal/cont_123/mfa-status", Some(&t)).await;
    assert_eq!(r.body, json!({"locked": true, "locked_at": locked_at}));

    let r = app.post("/api/auth/ws-ticket", Some(&t), json!({"terminalId": "cont_123"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "terminal_mfa_locked"));
    assert_eq!(
        app.post("/api/auth/ws-ticket", Some(&t), json!({"terminalId": "other"})).await.status,
        200,
        "other terminals are open"
    );

    let good = app.code(&secret);
    let bad = if good == "000000" { "111111" } else { "000000" };
    let r = app.post("/api/security/terminal/cont_123/mfa-verify", Some(&t), json!({"code": bad})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_code"));
    let r = app.post("/api/security/terminal/cont_123/mfa-verify", Some(&t), json!({"code": good})).await;
    assert_eq!(r.body["verified"], true);
    assert!(r.body["expires_at"].is_string());
    let r = app.post("/api/auth/ws-ticket", Some(&t), json!({"terminalId": "cont_123"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.get("/api/security/terminal/cont_123/mfa-status", Some(&t)).await.body["locked"],
        true,
        "verify does not unlock"
    );

    // The grant is bound to this session.
    let (other, _) = {
        let r =
            app.post("/api/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
        app.clock.advance(30);
        let r = app
            .post(
                "/api/auth/login/mfa",
                None,
                json!({"mfaToken": r.body["mfaToken"], "code": app.code(&secret)}),
            )
            .await;
        (r.body["token"].as_str().unwrap().to_owned(), ())
    };
    assert_eq!(
        app.post("/api/auth/ws-ticket", Some(&other), json!({"terminalId": "cont_123"})).await.status,
        403
    );

    app.clock.advance(15 * 60);
    let r = app.post("/api/auth/ws-ticket", Some(&t), json!({"terminalId": "cont_123"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "terminal_mfa_locked"), "the grant expired");
}

#[tokio::test]
async fn a_terminal_code_is_accepted_once_and_unlock_removes_the_lock() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&t).await;
    app.post("/api/security/terminal/cont_9/mfa-lock", Some(&t), json!({})).await;
    let code = app.code(&secret);
    assert_eq!(
        app.post("/api/security/terminal/cont_9/mfa-verify", Some(&t), json!({"code": code})).await.status,
        200
    );
    let r = app.post("/api/security/terminal/cont_9/mfa-unlock", Some(&t), json!({"code": code})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_code"), "the same code twice");
    app.clock.advance(30);
    let r = app
        .post("/api/security/terminal/cont_9/mfa-unlock", Some(&t), json!({"code": app.code(&secret)}))
        .await;
    assert_eq!(r.body, json!({"locked": false}));
    assert_eq!(app.get("/api/security/terminal/cont_9/mfa-status", Some(&t)).await.body["locked"], false);
    let r = app.post("/api/security/terminal/cont_9/mfa-unlock", Some(&t), json!({"code": "12"})).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn wrong_terminal_codes_are_rate_limited() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&t).await;
    let bad = if app.code(&secret) == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(
            app.post("/api/security/terminal/c/mfa-verify", Some(&t), json!({"code": bad})).await.status,
            401
        );
    }
    let r =
        app.post("/api/security/terminal/c/mfa-verify", Some(&t), json!({"code": app.code(&secret)})).await;
    assert_eq!(r.status, 429);
}

/// The gateway redeems a ticket for the terminal it is opening.
async fn redeem(app: &TestApp, secret: Option<&str>, ticket: &str) -> Reply {
    redeem_for(app, secret, ticket, "cont_1").await
}

async fn redeem_for(app: &TestApp, secret: Option<&str>, ticket: &str, terminal: &str) -> Reply {
    app.post("/api/auth/ws-ticket/redeem", secret, json!({"ticket": ticket, "terminalId": terminal})).await
}

async fn ticket(app: &TestApp, token: &str, body: serde_json::Value) -> String {
    let r = app.post("/api/auth/ws-ticket", Some(token), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["ticket"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_ticket_opens_only_its_terminal_and_the_lock_is_checked_again_at_redeem() {
    let app = spawn_app_with_gateway().await;
    let t = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&t).await;

    let for_one = ticket(&app, &t, json!({"terminalId": "cont_1"})).await;
    let r = redeem_for(&app, Some(GATEWAY_SECRET), &for_one, "cont_2").await;
    assert_eq!(r.status, 401, "a ticket issued for another terminal: {}", r.body);

    let r = app
        .post(
            "/api/auth/ws-ticket/redeem",
            Some(GATEWAY_SECRET),
            json!({"ticket": ticket(&app, &t, json!({})).await}),
        )
        .await;
    assert_eq!(r.status, 400, "the gateway names the terminal it opens");

    let for_none = ticket(&app, &t, json!({})).await;
    app.post("/api/security/terminal/cont_9/mfa-lock", Some(&t), json!({})).await;
    let r = redeem_for(&app, Some(GATEWAY_SECRET), &for_none, "cont_9").await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "terminal_mfa_locked"),
        "a ticket for no terminal opens no locked one"
    );

    let before_lock = ticket(&app, &t, json!({"terminalId": "cont_5"})).await;
    app.post("/api/security/terminal/cont_5/mfa-lock", Some(&t), json!({})).await;
    let r = redeem_for(&app, Some(GATEWAY_SECRET), &before_lock, "cont_5").await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "terminal_mfa_locked"),
        "locked after the ticket was issued"
    );

    app.clock.advance(30);
    let r = app
        .post("/api/security/terminal/cont_9/mfa-verify", Some(&t), json!({"code": app.code(&secret)}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let granted = ticket(&app, &t, json!({"terminalId": "cont_9"})).await;
    let r = redeem_for(&app, Some(GATEWAY_SECRET), &granted, "cont_9").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["terminalId"], "cont_9");
}

#[tokio::test]
async fn a_ws_ticket_is_redeemed_once_by_the_gateway_within_30_seconds() {
    let app = spawn_app_with_gateway().await;
    let t = app.setup_admin().await;
    let r = app.post("/api/auth/ws-ticket", Some(&t), json!({"terminalId": "cont_1"})).await;
    let ticket = r.body["ticket"].as_str().unwrap().to_owned();
    assert_eq!(ticket.len(), 64);

    assert_eq!(redeem(&app, None, &ticket).await.status, 401, "the gateway must authenticate");
    assert_eq!(redeem(&app, Some("wrong-secret"), &ticket).await.status, 401);
    assert_eq!(
        redeem(&app, Some(&t), &ticket).await.status,
        401,
        "a user's session token is not the gateway secret"
    );
    let r = redeem(&app, Some(GATEWAY_SECRET), &ticket).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["username"], "admin");
    assert_eq!(r.body["terminalId"], "cont_1");
    assert!(r.body["permissions"].as_array().unwrap().contains(&json!("connections.create")));
    assert!(r.body["userId"].is_string());
    assert_eq!(redeem(&app, Some(GATEWAY_SECRET), &ticket).await.status, 401, "single use");

    let r = app.post("/api/auth/ws-ticket", Some(&t), json!({})).await;
    let late = r.body["ticket"].as_str().unwrap().to_owned();
    app.clock.advance(30);
    assert_eq!(redeem(&app, Some(GATEWAY_SECRET), &late).await.status, 401, "expired after 30 s");
}

#[tokio::test]
async fn a_ticket_of_a_revoked_session_is_refused_and_a_ticket_is_not_a_session() {
    let app = spawn_app_with_gateway().await;
    let t = app.setup_admin().await;
    let ticket = app.post("/api/auth/ws-ticket", Some(&t), json!({})).await.body["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.get("/api/auth/me", Some(&ticket)).await.status, 401);
    app.post("/api/auth/logout", Some(&t), json!({})).await;
    assert_eq!(redeem(&app, Some(GATEWAY_SECRET), &ticket).await.status, 401);
}

#[tokio::test]
async fn the_redeem_route_is_off_without_a_gateway_secret() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let ticket = app.post("/api/auth/ws-ticket", Some(&t), json!({})).await.body["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = redeem(&app, Some("anything"), &ticket).await;
    assert_eq!(r.status, 404);
    assert_eq!(app.post("/api/auth/ws-ticket", None, json!({})).await.status, 401);
}

#[tokio::test]
async fn a_ticket_whose_session_has_gone_idle_past_its_auto_lock_opens_nothing() {
    let app = spawn_app_with_gateway().await;
    let t = app.setup_admin().await;
    let r = app
        .post("/api/security/passcode", Some(&t), json!({"new_passcode": "246802", "lock_after_minutes": 5}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let issued = ticket(&app, &t, json!({"terminalId": "cont_1"})).await;
    // The session's last activity falls further back than its auto-lock time (as after a
    // suspended machine wakes): the screen is locked, whether or not a request noticed yet.
    app.sql("UPDATE sessions SET last_active_at = last_active_at - 600").await;
    let r = redeem(&app, Some(GATEWAY_SECRET), &issued).await;
    assert_eq!(r.status, 401, "an idle-locked session's ticket: {}", r.body);
    assert_eq!(app.get("/api/auth/me", Some(&t)).await.code(), "account_locked");
}
