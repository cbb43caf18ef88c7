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
