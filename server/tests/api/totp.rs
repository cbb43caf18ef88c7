use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn setup_shows_a_secret_and_qr_code_without_changing_how_the_user_signs_in() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = app.post("/api/users/totp/setup", Some(&admin), json!({})).await;
    assert_eq!(r.status, 200);
    let secret = r.body["secret"].as_str().unwrap();
    assert_eq!(base32_decode(secret).len(), 20, "a 160-bit seed");
    assert!(r.body["qr_code"].as_str().unwrap().starts_with("data:image/svg+xml;base64,"));
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert!(r.body["token"].is_string(), "still one step: {}", r.body);
    assert_eq!(app.get("/api/users/me", Some(&admin)).await.body["totp_enabled"], false);
}

#[tokio::test]
async fn enabling_needs_a_right_code_returns_eight_backup_codes_and_signs_out_other_sessions() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (other, _) = app.login("admin", ADMIN_PASSWORD).await;
    let r = app.post("/api/users/totp/enable", Some(&admin), json!({"totp_code": "123456"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "totp_setup_required"));

    let setup = app.post("/api/users/totp/setup", Some(&admin), json!({})).await;
    let secret = base32_decode(setup.body["secret"].as_str().unwrap());
    let good = app.code(&secret);
    let bad = if good == "000000" { "111111" } else { "000000" };
    let r = app.post("/api/users/totp/enable", Some(&admin), json!({"totp_code": bad})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_code"));
    assert_eq!(r.body["remainingAttempts"], 4);
    let r = app.post("/api/users/totp/enable", Some(&admin), json!({"totp_code": "12ab"})).await;
    assert_eq!(r.status, 400);
    let r = app.post("/api/users/totp/enable", Some(&admin), json!({})).await;
    assert_eq!(r.status, 400);

    let r = app.post("/api/users/totp/enable", Some(&admin), json!({"totp_code": good})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let codes = r.body["backup_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 8);
    assert!(r.body["message"].is_string());
    assert_eq!(app.get("/api/users/me", Some(&admin)).await.body["totp_enabled"], true);
    assert_eq!(app.get("/api/users/me", Some(&other)).await.status, 401, "other sessions are revoked");
    let r = app.post("/api/users/totp/setup", Some(&admin), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "totp_already_enabled"));
}

#[tokio::test]
async fn users_login_then_verify_login_with_a_code_and_the_temp_token_works_once() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&admin).await;
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.body["requires_totp"], true);
    assert!(r.body.get("token").is_none(), "no session before the second step");
    let temp = r.body["temp_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/users/me", Some(&temp)).await.status,
        401,
        "an MFA-pending token is not a session"
    );
    assert_eq!(app.get("/api/auth/me", Some(&temp)).await.status, 401);

    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": temp, "totp_code": app.code(&secret)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["success"], true);
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/users/me", Some(&token)).await.status, 200);

    app.clock.advance(30);
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": temp, "totp_code": app.code(&secret)}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_token"), "the temp token works once");
}

#[tokio::test]
async fn a_code_cannot_be_replayed_within_its_window() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&admin).await;
    let code = app.code(&secret);
    let first =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": first.body["temp_token"], "totp_code": code}),
        )
        .await;
    assert_eq!(r.status, 200);
    let second =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": second.body["temp_token"], "totp_code": code}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_code"), "same code, same window");
    app.clock.advance(30);
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": second.body["temp_token"], "totp_code": app.code(&secret)}),
        )
        .await;
    assert_eq!(r.status, 200, "the next step's code works");
}

#[tokio::test]
async fn a_backup_code_works_once_in_place_of_a_totp_code() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, codes) = app.enable_totp(&admin).await;
    let login =
        || app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD}));
    let t1 = login().await.body["temp_token"].clone();
    let r = app
        .post("/api/users/totp/verify-login", None, json!({"temp_token": t1, "totp_code": codes[0]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t2 = login().await.body["temp_token"].clone();
    let r = app
        .post("/api/users/totp/verify-login", None, json!({"temp_token": t2, "totp_code": codes[0]}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_code"));
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": t2, "totp_code": codes[1].to_uppercase()}),
        )
        .await;
    assert_eq!(r.status, 200, "another code, typed in capitals, works");
}

#[tokio::test]
async fn the_sixth_wrong_code_in_five_minutes_is_429() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&admin).await;
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let temp = r.body["temp_token"].clone();
    let good = app.code(&secret);
    let bad = if good == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let r = app
            .post("/api/users/totp/verify-login", None, json!({"temp_token": temp, "totp_code": bad}))
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_code"));
        assert_eq!(r.body["remainingAttempts"], left);
    }
    let r =
        app.post("/api/users/totp/verify-login", None, json!({"temp_token": temp, "totp_code": good})).await;
    assert_eq!((r.status.as_u16(), r.code()), (429, "rate_limited"), "even the right code waits");
    assert!(r.body["remainingTime"].as_u64().unwrap() > 0);
    app.clock.advance(301);
    // The window has passed, but this token used up its own five tries: sign in again.
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": temp, "totp_code": app.code(&secret)}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_token"), "{}", r.body);
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let fresh = r.body["temp_token"].clone();
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": fresh, "totp_code": app.code(&secret)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn auth_login_asks_for_mfa_and_login_mfa_completes_it_within_five_minutes() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&admin).await;
    let r = app.post("/api/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.body["mfaRequired"], true);
    assert_eq!(r.body["mfaMethod"], "totp");
    let mfa = r.body["mfaToken"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/api/auth/login/mfa",
            None,
            json!({"mfaToken": mfa, "code": app.code(&secret), "trustDevice": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["username"], "admin");
    assert!(cookie_value(&r, "pc_trusted").is_none());

    let r = app.post("/api/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let mfa = r.body["mfaToken"].clone();
    app.clock.advance(301);
    let r = app
        .post(
            "/api/auth/login/mfa",
            None,
            json!({"mfaToken": mfa, "code": app.code(&secret), "trustDevice": false}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_token"), "auth-api MFA tokens live 5 minutes");
    let r = app.post("/api/auth/login/mfa", None, json!({"mfaToken": "garbage", "code": "123456"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_token"));
    let r = app.post("/api/auth/login/mfa", None, json!({"code": "123456"})).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn a_session_token_is_not_accepted_as_an_mfa_token() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&admin).await;
    let r =
        app.post("/api/auth/login/mfa", None, json!({"mfaToken": admin, "code": app.code(&secret)})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_token"));
}

#[tokio::test]
async fn a_trusted_device_skips_the_second_step_until_two_factor_is_turned_on_again() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&admin).await;
    let r = app.post("/api/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let r = app
        .post(
            "/api/auth/login/mfa",
            None,
            json!({"mfaToken": r.body["mfaToken"], "code": app.code(&secret), "trustDevice": true}),
        )
        .await;
    let device = cookie_value(&r, "pc_trusted").expect("trusted-device cookie");
    assert!(r.set_cookie().contains("HttpOnly") && r.set_cookie().contains("Max-Age=2592000"));
    let session = r.body["token"].as_str().unwrap().to_owned();
    let cookie = format!("pc_trusted={device}");

    let r = app
        .post_with_cookie(
            "/api/users/login",
            &cookie,
            json!({"username": "admin", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert!(r.body["token"].is_string(), "trusted device skips the step: {}", r.body);
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.body["requires_totp"], true, "another browser still gets the step");

    app.clock.advance(30);
    let r =
        app.post("/api/users/totp/disable", Some(&session), json!({"totp_code": app.code(&secret)})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.clock.advance(30);
    app.enable_totp(&session).await;
    let r = app
        .post_with_cookie(
            "/api/users/login",
            &cookie,
            json!({"username": "admin", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(r.body["requires_totp"], true, "re-enabling forgot the device: {}", r.body);
}

#[tokio::test]
async fn verify_login_remember_me_trusts_the_device_and_lasts_thirty_days() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&admin).await;
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": r.body["temp_token"], "totp_code": app.code(&secret), "rememberMe": true}),
        )
        .await;
    assert!(cookie_value(&r, "pc_trusted").is_some());
    assert!(r.set_cookie().contains("jwt=") && r.set_cookie().contains("Max-Age=2592000"));
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let temp = r.body["temp_token"].clone();
    app.clock.advance(601);
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": temp, "totp_code": app.code(&secret)}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (401, "invalid_token"),
        "users-api temp tokens live 10 minutes"
    );
}

#[tokio::test]
async fn disabling_needs_the_password_or_a_code() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = app.post("/api/users/totp/disable", Some(&admin), json!({"password": ADMIN_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "totp_not_enabled"));
    app.enable_totp(&admin).await;
    let r = app.post("/api/users/totp/disable", Some(&admin), json!({})).await;
    assert_eq!(r.status, 400);
    let r =
        app.post("/api/users/totp/disable", Some(&admin), json!({"password": "wrong-password-here"})).await;
    assert_eq!(r.status, 401);
    assert_eq!(app.get("/api/users/me", Some(&admin)).await.body["totp_enabled"], true);
    let r = app.post("/api/users/totp/disable", Some(&admin), json!({"password": ADMIN_PASSWORD})).await;
    assert_eq!(r.body, json!({"success": true}));
    assert_eq!(app.get("/api/users/me", Some(&admin)).await.body["totp_enabled"], false);
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert!(r.body["token"].is_string());
}

#[tokio::test]
async fn regenerating_backup_codes_invalidates_the_old_ones() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (secret, old) = app.enable_totp(&admin).await;
    let r =
        app.post("/api/users/totp/backup-codes", Some(&admin), json!({"totp_code": app.code(&secret)})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let new: Vec<String> =
        r.body["backup_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(new.len(), 8);
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let temp = r.body["temp_token"].clone();
    let r = app
        .post("/api/users/totp/verify-login", None, json!({"temp_token": temp, "totp_code": old[0]}))
        .await;
    assert_eq!(r.status, 401);
    let r = app
        .post("/api/users/totp/verify-login", None, json!({"temp_token": temp, "totp_code": new[0]}))
        .await;
    assert_eq!(r.status, 200);
    let r =
        app.post("/api/users/totp/backup-codes", Some(&admin), json!({"password": "nope-nope-nope"})).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn an_mfa_pending_token_dies_after_five_wrong_codes_even_once_the_limit_window_passes() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (t, _) = app.user("wanda").await;
    let (secret, _) = app.enable_totp(&t).await;
    let r = app.post("/api/users/login", None, json!({"username": "wanda", "password": USER_PASSWORD})).await;
    let temp = r.body["temp_token"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        let r = app
            .post("/api/users/totp/verify-login", None, json!({"temp_token": temp, "totp_code": "000000"}))
            .await;
        assert!(r.status == 401 || r.status == 429, "{}", r.body);
    }
    app.clock.advance(5 * 60 + 1); // the per-user window has passed; the token (10 min) has not
    let r = app
        .post(
            "/api/users/totp/verify-login",
            None,
            json!({"temp_token": temp, "totp_code": app.code(&secret)}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_token"), "{}", r.body);
}
