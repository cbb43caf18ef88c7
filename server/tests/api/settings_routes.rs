use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn the_session_timeout_is_admin_set_within_1_to_720_hours_and_applies_to_new_sessions() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    assert_eq!(app.get("/api/users/session-timeout", None).await.body, json!({"timeoutHours": 24}));
    assert_eq!(
        app.patch("/api/users/session-timeout", Some(&alice), json!({"timeoutHours": 2})).await.status,
        403
    );
    for bad in
        [json!({"timeoutHours": 0}), json!({"timeoutHours": 721}), json!({"timeoutHours": "2"}), json!({})]
    {
        let r = app.patch("/api/users/session-timeout", Some(&admin), bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = app.patch("/api/users/session-timeout", Some(&admin), json!({"timeoutHours": 2})).await;
    assert_eq!(r.body, json!({"timeoutHours": 2}));
    let (short, _) = app.login("alice", USER_PASSWORD).await;
    app.clock.advance(2 * 3600 + 1);
    assert_eq!(app.get("/api/users/me", Some(&short)).await.status, 401, "new session lasts 2 h");
}

#[tokio::test]
async fn toggles_are_admin_only_and_typed() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    for path in [
        "/api/users/registration-allowed",
        "/api/users/password-login-allowed",
        "/api/users/password-reset-allowed",
    ] {
        assert_eq!(app.patch(path, Some(&alice), json!({"allowed": false})).await.status, 403, "{path}");
        assert_eq!(app.patch(path, None, json!({"allowed": false})).await.status, 401, "{path}");
        assert_eq!(app.patch(path, Some(&admin), json!({"allowed": "no"})).await.status, 400, "{path}");
        assert_eq!(app.get(path, None).await.body, json!({"allowed": true}), "{path}");
    }
}

#[tokio::test]
async fn password_login_can_be_turned_off() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.patch("/api/users/password-login-allowed", Some(&admin), json!({"allowed": false})).await;
    let r = app.post("/api/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "password_login_disabled"));
    assert_eq!(app.get("/api/auth/providers", None).await.body["local"], false);
}

#[tokio::test]
async fn admin_only_counters_answer_admins() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    assert_eq!(app.get("/api/users/count", Some(&admin)).await.body, json!({"count": 2}));
    assert_eq!(app.get("/api/users/count", Some(&alice)).await.status, 403);
    assert_eq!(app.get("/api/users/db-health", Some(&admin)).await.body, json!({"status": "ok"}));
    assert_eq!(app.get("/api/users/db-health", Some(&alice)).await.status, 403);
}

#[tokio::test]
async fn an_unknown_api_route_is_a_json_404() {
    let app = spawn_app().await;
    let r = app.get("/api/users/nothing-here", None).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"));
}

#[tokio::test]
async fn the_log_level_changes_at_once_and_survives_a_restart() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    assert_eq!(
        app.get("/api/users/log-level", None).await.body,
        json!({"level": "warn"}),
        "the configured level"
    );
    assert_eq!(app.patch("/api/users/log-level", Some(&alice), json!({"level": "debug"})).await.status, 403);
    for bad in [json!({"level": "verbose"}), json!({"level": 3}), json!({})] {
        assert_eq!(app.patch("/api/users/log-level", Some(&admin), bad.clone()).await.status, 400, "{bad}");
    }
    let r = app.patch("/api/users/log-level", Some(&admin), json!({"level": "debug"})).await;
    assert_eq!(r.body, json!({"level": "debug"}));
    let before = server_log().len();
    app.get("/api/users/me", Some(&admin)).await;
    assert!(server_log()[before..].contains("DEBUG"), "debug lines appear at once");
    app.patch("/api/users/log-level", Some(&admin), json!({"level": "warn"})).await;
    let again = spawn_app_in(app.dir.clone(), app.clock.clone()).await;
    assert_eq!(again.get("/api/users/log-level", None).await.body, json!({"level": "warn"}));
    restore_test_log();
}

#[tokio::test]
async fn guacamole_settings_are_admin_set_and_checked() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    assert_eq!(
        app.get("/api/users/guacamole-settings", None).await.body,
        json!({"enabled": true, "url": "guacd:4822"})
    );
    assert_eq!(
        app.patch("/api/users/guacamole-settings", Some(&alice), json!({"enabled": false})).await.status,
        403
    );
    for bad in [json!({"url": "guacd"}), json!({"url": "guacd:99999"}), json!({"enabled": "no"}), json!({})] {
        assert_eq!(
            app.patch("/api/users/guacamole-settings", Some(&admin), bad.clone()).await.status,
            400,
            "{bad}"
        );
    }
    let r = app
        .patch(
            "/api/users/guacamole-settings",
            Some(&admin),
            json!({"enabled": false, "url": "10.0.0.7:4822"}),
        )
        .await;
    assert_eq!(r.body, json!({"enabled": false, "url": "10.0.0.7:4822"}));
    let r = app.patch("/api/users/guacamole-settings", Some(&admin), json!({"enabled": true})).await;
    assert_eq!(r.body, json!({"enabled": true, "url": "10.0.0.7:4822"}), "the url is kept");
}
