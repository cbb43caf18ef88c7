use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn the_31st_login_attempt_from_one_ip_in_15_minutes_is_429_and_holds_across_a_restart() {
    let app = spawn_app().await;
    app.setup_admin().await;
    app.user("alice").await; // one attempt already counted
    for i in 0..29 {
        let r = app
            .post(
                "/api/auth/login",
                None,
                json!({"username": format!("user{i}"), "password": "whatever-123"}),
            )
            .await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let r = app.post("/api/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (429, "rate_limited"), "{}", r.body);
    let remaining = r.body["remainingTime"].as_u64().unwrap();
    assert!(remaining > 0 && remaining <= 900, "{remaining}");

    let restarted = spawn_app_in(app.dir.clone(), app.clock.clone()).await;
    let r = restarted
        .post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .await;
    assert_eq!(r.status, 429, "the limit lives in the database");

    restarted.clock.advance(901);
    let r = restarted
        .post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .await;
    assert_eq!(r.status, 200, "the window has passed");
}

#[tokio::test]
async fn ten_failures_for_one_username_lock_it_for_a_while_even_with_the_right_password() {
    let app = spawn_app().await;
    app.setup_admin().await;
    for _ in 0..10 {
        let r = app
            .post("/api/users/login", None, json!({"username": "admin", "password": "wrong-wrong-wrong"}))
            .await;
        assert_eq!(r.status, 401);
    }
    let r =
        app.post("/api/users/login", None, json!({"username": "Admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.status, 429);
    assert!(r.body["remainingTime"].as_u64().unwrap() > 0);
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_does_not_escape_the_ip_limit() {
    let app = spawn_app().await;
    app.setup_admin().await;
    for i in 0..30 {
        let r = app
            .client
            .post(format!("{}/api/auth/login", app.base))
            .header("x-forwarded-for", format!("10.0.0.{i}"))
            .json(&json!({"username": format!("u{i}"), "password": "whatever-123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = app
        .client
        .post(format!("{}/api/auth/login", app.base))
        .header("x-forwarded-for", "10.9.9.9")
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

/// Sends `n` copies of one request at the same moment; answers their statuses.
async fn burst(
    app: &TestApp,
    n: usize,
    path: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> Vec<u16> {
    let sends = (0..n).map(|_| app.post(path, token, body.clone()));
    // `0` stands for a refusal that judged nothing: `invalid_token`, a one-use token out of tries.
    futures::future::join_all(sends)
        .await
        .into_iter()
        .map(|r| if r.code() == "invalid_token" { 0 } else { r.status.as_u16() })
        .collect()
}

/// How many answers were judged (anything but a refusal).
fn judged(statuses: &[u16]) -> usize {
    statuses.iter().filter(|s| **s != 429 && **s != 0).count()
}

#[tokio::test]
async fn forty_parallel_wrong_passcodes_are_judged_at_most_five_times() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    app.post("/api/security/passcode", Some(&t), json!({"new_passcode": "480927"})).await;
    app.post("/api/security/lock", Some(&t), json!({})).await;
    let s = burst(&app, 40, "/api/security/unlock", Some(&t), json!({"passcode": "719358"})).await;
    assert!(judged(&s) <= 5, "{s:?}");
    assert!(s.iter().all(|c| *c == 401 || *c == 429), "{s:?}");
}

#[tokio::test]
async fn a_right_passcode_inside_a_burst_does_not_reset_the_count_for_the_others() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    app.post("/api/security/passcode", Some(&t), json!({"new_passcode": "480927"})).await;
    app.post("/api/security/lock", Some(&t), json!({})).await;
    for _ in 0..4 {
        let r = app.post("/api/security/unlock", Some(&t), json!({"passcode": "719358"})).await;
        assert_eq!(r.status, 401);
    }
    let right = app.post("/api/security/unlock", Some(&t), json!({"passcode": "480927"}));
    let wrong = (0..10).map(|_| app.post("/api/security/unlock", Some(&t), json!({"passcode": "719358"})));
    let (right, wrong) = tokio::join!(right, futures::future::join_all(wrong));
    let wrong_judged = wrong.iter().filter(|r| r.status == 401).count();
    assert!(wrong_judged <= 1, "five wrong passcodes in all, whatever the right one did: {wrong_judged}");
    assert!(right.status == 200 || right.status == 429, "{}", right.status);
}

#[tokio::test]
async fn forty_parallel_wrong_reset_codes_are_judged_at_most_five_times() {
    let app = spawn_app().await;
    app.setup_admin().await;
    app.user("rosa").await;
    app.post("/api/users/initiate-reset", None, json!({"username": "rosa"})).await;
    let log = server_log();
    let at = log.rfind("username=rosa code=").unwrap() + "username=rosa code=".len();
    let code: u32 = log[at..at + 6].parse().unwrap();
    let wrong = format!("{:06}", (code + 1) % 1_000_000);
    let s = burst(
        &app,
        40,
        "/api/users/verify-reset-code",
        None,
        json!({"username": "rosa", "resetCode": wrong}),
    )
    .await;
    assert!(judged(&s) <= 5, "{s:?}");
}

#[tokio::test]
async fn forty_parallel_wrong_second_steps_are_judged_at_most_five_times() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (t, _) = app.user("sven").await;
    let (secret, _) = app.enable_totp(&t).await;
    let r = app.post("/api/users/login", None, json!({"username": "sven", "password": USER_PASSWORD})).await;
    let temp = r.body["temp_token"].as_str().unwrap().to_owned();
    let near: Vec<String> = [-30i64, 0, 30]
        .iter()
        .map(|d| app::ssr::services::totp::code_at(&secret, (app.now() + d) as u64))
        .collect();
    let wrong = (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !near.contains(c)).unwrap();
    let s = burst(
        &app,
        40,
        "/api/users/totp/verify-login",
        None,
        json!({"temp_token": temp, "totp_code": wrong}),
    )
    .await;
    assert!(judged(&s) <= 5, "{s:?}");
}

#[tokio::test]
async fn forty_parallel_wrong_passwords_for_one_user_are_judged_at_most_ten_times() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let s = burst(
        &app,
        40,
        "/api/auth/login",
        None,
        json!({"username": "admin", "password": "not-the-password"}),
    )
    .await;
    assert!(judged(&s) <= 10, "{s:?}");
}

#[tokio::test]
async fn forty_parallel_wrong_current_passwords_are_judged_at_most_ten_times() {
    let app = spawn_app().await;
    let t = app.setup_admin().await;
    let body = json!({"oldPassword": "not-the-password", "newPassword": "another-fine-pass-93"});
    let s = burst(&app, 40, "/api/users/change-password", Some(&t), body).await;
    assert!(judged(&s) <= 10, "{s:?}");
}

/// Behind a trusted proxy: a login from a client address (forwarded), answering the status.
async fn login_from(app: &TestApp, from: &str, password: &str) -> u16 {
    app.client
        .post(format!("{}/api/auth/login", app.base))
        .header("x-forwarded-for", from)
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn strangers_guessing_from_elsewhere_do_not_keep_the_owner_out() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let app = spawn_app_with(dir, app::ssr::clock::ManualClock::new(START), |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await;
    app.setup_admin().await;
    for net in ["198.51.100.7", "203.0.113.9", "2001:db8:1:2::5"] {
        for _ in 0..4 {
            assert_eq!(login_from(&app, net, "not-the-password").await, 401);
        }
    }
    assert_eq!(
        login_from(&app, "192.0.2.44", ADMIN_PASSWORD).await,
        200,
        "the owner signs in from their own network"
    );
}

#[tokio::test]
async fn one_network_meets_its_own_limit_and_ipv6_counts_by_the_64() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let app = spawn_app_with(dir, app::ssr::clock::ManualClock::new(START), |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await;
    app.setup_admin().await;
    for i in 0..10 {
        assert_eq!(login_from(&app, &format!("2001:db8:7:7::{i:x}"), "not-the-password").await, 401);
    }
    assert_eq!(login_from(&app, "2001:db8:7:7::ffff", ADMIN_PASSWORD).await, 429, "the same /64");
    assert_eq!(login_from(&app, "2001:db8:7:8::1", ADMIN_PASSWORD).await, 200, "another /64");
}

#[tokio::test]
async fn registration_is_limited_per_client_network() {
    let app = spawn_app().await;
    app.setup_admin().await;
    for i in 0..20 {
        let r = app
            .post(
                "/api/users/create",
                None,
                json!({"username": format!("reg{i}"), "password": USER_PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 200, "{i}: {}", r.body);
    }
    let r =
        app.post("/api/users/create", None, json!({"username": "reg20", "password": USER_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (429, "rate_limited"), "{}", r.body);
}
