use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn security_settings_start_off() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = app.get("/api/security", Some(&admin)).await;
    assert_eq!(
        r.body,
        json!({"enabled": false, "lock_after_minutes": 15, "single_session_mode": false, "has_passcode": false, "locked": false})
    );
}

#[tokio::test]
async fn a_passcode_is_six_digits_and_changing_it_needs_the_current_one() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    for bad in [
        json!({"new_passcode": "12345"}),
        json!({"new_passcode": "12345a"}),
        json!({"new_passcode": "480927", "lock_after_minutes": 4}),
        json!({"new_passcode": "480927", "lock_after_minutes": 121}),
        // Guessed first by anyone at the keyboard: refused with a reason.
        json!({"new_passcode": "123456"}),
        json!({"new_passcode": "000000"}),
        json!({"new_passcode": "987654"}),
        json!({"new_passcode": "121212"}),
        json!({"new_passcode": "123123"}),
        json!({"new_passcode": "890123"}),
    ] {
        let r = app.post("/api/security/passcode", Some(&t), bad.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_passcode_format"), "{bad}");
    }
    let r = app
        .post("/api/security/passcode", Some(&t), json!({"new_passcode": "480927", "lock_after_minutes": 10}))
        .await;
    assert_eq!(r.body, json!({"success": true}));
    let s = app.get("/api/security", Some(&t)).await.body;
    assert_eq!(
        (s["enabled"].clone(), s["has_passcode"].clone(), s["lock_after_minutes"].clone()),
        (json!(true), json!(true), json!(10))
    );
    assert!(!s.to_string().contains("480927"), "the passcode is never returned");

    let r = app.post("/api/security/passcode", Some(&t), json!({"new_passcode": "719358"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_passcode"));
    let r = app
        .post(
            "/api/security/passcode",
            Some(&t),
            json!({"new_passcode": "719358", "current_passcode": "000000"}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_passcode"));
    let r = app
        .post(
            "/api/security/passcode",
            Some(&t),
            json!({"new_passcode": "719358", "current_passcode": "480927"}),
        )
        .await;
    assert_eq!(r.status, 200);
    app.post("/api/security/lock", Some(&t), json!({})).await;
    let r = app.post("/api/security/unlock", Some(&t), json!({"passcode": "719358"})).await;
    assert_eq!(r.status, 200, "the new passcode unlocks: {}", r.body);
}

#[tokio::test]
async fn the_auto_lock_time_is_5_to_120_minutes() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let r = app.patch("/api/security", Some(&t), json!({"lock_after_minutes": 30})).await;
    assert_eq!(r.body, json!({"success": true, "lock_after_minutes": 30}));
    for bad in [
        json!({"lock_after_minutes": 4}),
        json!({"lock_after_minutes": 121}),
        json!({"lock_after_minutes": "30"}),
        json!({}),
    ] {
        assert_eq!(app.patch("/api/security", Some(&t), bad.clone()).await.status, 400, "{bad}");
    }
    assert_eq!(app.get("/api/security", Some(&t)).await.body["lock_after_minutes"], 30);
}

#[tokio::test]
async fn lock_and_unlock_need_a_passcode() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let r = app.post("/api/security/lock", Some(&t), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "no_passcode"));
    let r = app.post("/api/security/unlock", Some(&t), json!({"passcode": "480927"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "no_passcode"));
}

#[tokio::test]
async fn a_locked_account_is_refused_everywhere_but_the_lock_routes_until_unlocked_with_a_new_token() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    app.post("/api/security/passcode", Some(&t), json!({"new_passcode": "480927"})).await;
    let r = app.post("/api/security/lock", Some(&t), json!({})).await;
    assert_eq!(r.body["locked"], true);
    assert!(r.body["locked_at"].as_str().unwrap().ends_with('Z'));

    for path in ["/api/auth/me", "/api/users/me", "/api/users/sessions"] {
        let r = app.get(path, Some(&t)).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "account_locked"), "{path}");
    }
    let r = app.post("/api/security/lock", Some(&t), json!({})).await;
    assert_eq!(r.status, 403, "even locking again needs an unlocked session");
    assert_eq!(app.get("/api/security", Some(&t)).await.body["locked"], true);

    let r = app.post("/api/security/unlock", Some(&t), json!({"passcode": "000000"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_passcode"));
    let r = app.post("/api/security/unlock", Some(&t), json!({"passcode": "12"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_passcode_format"));
    let r = app.post("/api/security/unlock", Some(&t), json!({"passcode": "480927"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["username"], "admin");
    assert!(r.set_cookie().starts_with("jwt="));
    let fresh = r.body["token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, t);
    assert_eq!(app.get("/api/auth/me", Some(&fresh)).await.status, 200);
    assert_eq!(app.get("/api/auth/me", Some(&t)).await.status, 401, "the token used to unlock stops working");
    assert_eq!(app.get("/api/security", Some(&fresh)).await.body["locked"], false);
}

#[tokio::test]
async fn a_locked_client_can_still_sign_out() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    app.post("/api/security/passcode", Some(&t), json!({"new_passcode": "480927"})).await;
    app.post("/api/security/lock", Some(&t), json!({})).await;
    assert_eq!(app.post("/api/auth/logout", Some(&t), json!({})).await.status, 200);
    let (t2, _) = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(
        app.get("/api/auth/me", Some(&t2)).await.status,
        200,
        "a new sign-in after the lock is not locked"
    );
    app.post("/api/security/lock", Some(&t2), json!({})).await;
    assert_eq!(app.post("/api/users/logout", Some(&t2), json!({})).await.status, 200);
}

#[tokio::test]
async fn each_device_stays_locked_until_it_unlocks_itself() {
    let app = spawn_app().await;
    let a = app.setup_admin().await;
    let (b, _) = app.login("admin", ADMIN_PASSWORD).await;
    app.post("/api/security/passcode", Some(&a), json!({"new_passcode": "480927"})).await;
    app.post("/api/security/lock", Some(&a), json!({})).await;
    assert_eq!(app.get("/api/auth/me", Some(&b)).await.status, 403, "locking locks every device");
    let r = app.post("/api/security/unlock", Some(&a), json!({"passcode": "480927"})).await;
    let a2 = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/auth/me", Some(&a2)).await.status, 200);
    assert_eq!(app.get("/api/auth/me", Some(&b)).await.status, 403, "the other device is still locked");
    let r = app.post("/api/security/unlock", Some(&b), json!({"passcode": "480927"})).await;
    assert_eq!(app.get("/api/auth/me", Some(r.body["token"].as_str().unwrap())).await.status, 200);
}

#[tokio::test]
async fn the_server_locks_an_idle_session_by_itself() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    app.post("/api/security/passcode", Some(&t), json!({"new_passcode": "480927", "lock_after_minutes": 5}))
        .await;
    app.clock.advance(4 * 60);
    assert_eq!(app.get("/api/auth/me", Some(&t)).await.status, 200, "activity at 4 minutes");
    app.clock.advance(4 * 60);
    assert_eq!(app.get("/api/auth/me", Some(&t)).await.status, 200, "4 minutes after the last activity");
    // Polling the lock state is not activity.
    for _ in 0..3 {
        app.clock.advance(60);
        assert_eq!(app.get("/api/security", Some(&t)).await.status, 200);
    }
    app.clock.advance(2 * 60);
    let r = app.get("/api/auth/me", Some(&t)).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "account_locked"), "idle 5 minutes");
    assert_eq!(app.get("/api/security", Some(&t)).await.body["locked"], true);
    let r = app.post("/api/security/unlock", Some(&t), json!({"passcode": "480927"})).await;
    assert_eq!(app.get("/api/auth/me", Some(r.body["token"].as_str().unwrap())).await.status, 200);
}

#[tokio::test]
async fn reported_activity_keeps_the_server_side_idle_clock_in_step() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    app.post("/api/security/passcode", Some(&t), json!({"new_passcode": "480927", "lock_after_minutes": 5}))
        .await;
    app.clock.advance(4 * 60);
    assert_eq!(app.post("/api/security/activity", Some(&t), json!({})).await.status, 200);
    app.clock.advance(4 * 60);
    assert_eq!(app.get("/api/auth/me", Some(&t)).await.status, 200);
}

#[tokio::test]
async fn five_wrong_passcodes_give_429_which_holds_across_a_restart() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    app.post("/api/security/passcode", Some(&t), json!({"new_passcode": "480927"})).await;
    app.post("/api/security/lock", Some(&t), json!({})).await;
    for _ in 0..5 {
        assert_eq!(
            app.post("/api/security/unlock", Some(&t), json!({"passcode": "000000"})).await.status,
            401
        );
    }
    let r = app.post("/api/security/unlock", Some(&t), json!({"passcode": "480927"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (429, "too_many_attempts"));
    assert!(r.body["remainingTime"].as_u64().unwrap() > 0);

    let restarted = spawn_app_in(app.dir.clone(), app.clock.clone()).await;
    let r = restarted.post("/api/security/unlock", Some(&t), json!({"passcode": "480927"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (429, "too_many_attempts"), "held in the database");
    restarted.clock.advance(15 * 60 + 1);
    let r = restarted.post("/api/security/unlock", Some(&t), json!({"passcode": "480927"})).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn removing_the_passcode_needs_it_and_turns_the_lock_off() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let r = app
        .send(
            reqwest::Method::DELETE,
            "/api/security/passcode",
            Some(&t),
            Some(json!({"current_passcode": "480927"})),
        )
        .await;
    assert_eq!(r.status, 404);
    app.post("/api/security/passcode", Some(&t), json!({"new_passcode": "480927"})).await;
    let r = app
        .send(
            reqwest::Method::DELETE,
            "/api/security/passcode",
            Some(&t),
            Some(json!({"current_passcode": "000000"})),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "incorrect_passcode"));
    let r = app.send(reqwest::Method::DELETE, "/api/security/passcode", Some(&t), Some(json!({}))).await;
    assert_eq!(r.status, 400);
    let r = app
        .send(
            reqwest::Method::DELETE,
            "/api/security/passcode",
            Some(&t),
            Some(json!({"current_passcode": "480927"})),
        )
        .await;
    assert_eq!(r.body, json!({"success": true}));
    let s = app.get("/api/security", Some(&t)).await.body;
    assert_eq!((s["enabled"].clone(), s["has_passcode"].clone()), (json!(false), json!(false)));
    assert_eq!(app.post("/api/security/lock", Some(&t), json!({})).await.status, 404);
}

#[tokio::test]
async fn single_session_mode_keeps_only_the_newest_session() {
    let app = spawn_app().await;
    let a = app.setup_admin().await;
    let (b, _) = app.login("admin", ADMIN_PASSWORD).await;
    let r = app.post("/api/security/single-session", Some(&a), json!({"enabled": true})).await;
    assert_eq!(r.body, json!({"success": true, "single_session_mode": true}));
    assert_eq!(app.get("/api/auth/me", Some(&b)).await.status, 401, "enabling signs out the others");
    assert_eq!(app.get("/api/auth/me", Some(&a)).await.status, 200);
    let (c, _) = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(app.get("/api/auth/me", Some(&a)).await.status, 401, "a new sign-in signs out the rest");
    assert_eq!(app.get("/api/auth/me", Some(&c)).await.status, 200);
    assert_eq!(app.get("/api/security", Some(&c)).await.body["single_session_mode"], true);
    let r = app.post("/api/security/single-session", Some(&c), json!({"enabled": false})).await;
    assert_eq!(r.body["single_session_mode"], false);
    let (d, _) = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(app.get("/api/auth/me", Some(&c)).await.status, 200);
    assert_eq!(app.get("/api/auth/me", Some(&d)).await.status, 200);
    assert_eq!(
        app.post("/api/security/single-session", Some(&d), json!({"enabled": "yes"})).await.status,
        400
    );
}

#[tokio::test]
async fn single_session_mode_applies_to_the_two_factor_sign_in_too() {
    let app = spawn_app().await;
    let a = app.setup_admin().await;
    let (secret, _) = app.enable_totp(&a).await;
    app.post("/api/security/single-session", Some(&a), json!({"enabled": true})).await;
    let r = app.post("/api/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let r = app
        .post("/api/auth/login/mfa", None, json!({"mfaToken": r.body["mfaToken"], "code": app.code(&secret)}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/api/auth/me", Some(&a)).await.status, 401);
}
