use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn a_fresh_instance_needs_setup_and_the_first_setup_creates_an_admin() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/auth/status", None).await.body, json!({"needsSetup": true}));
    assert_eq!(app.get("/api/users/setup-required", None).await.body, json!({"setup_required": true}));

    let r = app
        .post(
            "/api/auth/setup",
            None,
            json!({"username": "Admin", "password": ADMIN_PASSWORD, "displayName": "Ada"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["role"], "admin");
    assert_eq!(r.body["user"]["username"], "Admin");
    assert_eq!(r.body["user"]["displayName"], "Ada");
    let cookie = r.set_cookie();
    assert!(
        cookie.starts_with("jwt=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    assert_eq!(app.get("/api/auth/status", None).await.body, json!({"needsSetup": false}));
    let token = r.body["token"].as_str().unwrap();
    let me = app.get("/api/auth/me", Some(token)).await;
    assert_eq!(me.body["user"]["role"], "admin");
    assert!(me.body["user"]["permissions"].as_array().unwrap().contains(&json!("settings.manage")));
}

#[tokio::test]
async fn setup_is_refused_once_a_user_exists() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let r = app
        .post(
            "/api/auth/setup",
            None,
            json!({"username": "mallory", "password": ADMIN_PASSWORD, "displayName": "M"}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "already_set_up"));
    let r =
        app.post("/api/users/login", None, json!({"username": "mallory", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.status, 401, "the refused setup created nobody");
}

#[tokio::test]
async fn setup_refuses_weak_passwords_and_bad_usernames_without_creating_anyone() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/auth/setup",
            None,
            json!({"username": "admin", "password": "password123", "displayName": ""}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "weak_password"));
    assert_eq!(r.body["field"], "password");
    let r = app.post("/api/auth/setup", None, json!({"username": "a b", "password": ADMIN_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_username"));
    let r = app.post("/api/auth/setup", None, json!({"username": "admin", "password": "short"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "weak_password"));
    assert_eq!(app.get("/api/auth/status", None).await.body, json!({"needsSetup": true}));
}

#[tokio::test]
async fn providers_report_local_sign_in() {
    let app = spawn_app().await;
    let r = app.get("/api/auth/providers", None).await;
    assert_eq!(r.body["local"], true);
    assert_eq!(r.body["ldap"], false);
    assert_eq!(r.body["oidc"], false);
    assert!(r.body["oidcButtonLabel"].is_string());
}

#[tokio::test]
async fn auth_login_signs_in_with_the_right_password_only() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let r = app.post("/api/auth/login", None, json!({"username": "ADMIN", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["role"], "admin");
    assert!(r.set_cookie().starts_with("jwt="));

    let wrong =
        app.post("/api/auth/login", None, json!({"username": "admin", "password": "not-the-password"})).await;
    assert_eq!((wrong.status.as_u16(), wrong.code()), (401, "invalid_credentials"));
    let unknown = app
        .post("/api/auth/login", None, json!({"username": "nobody", "password": "not-the-password"}))
        .await;
    assert_eq!(unknown.body, wrong.body, "unknown users and wrong passwords look the same");
}

#[tokio::test]
async fn the_first_registered_user_is_admin_and_later_ones_are_not() {
    let app = spawn_app().await;
    let r =
        app.post("/api/users/create", None, json!({"username": "first", "password": USER_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["message"], "User created");
    assert_eq!(r.body["is_admin"], true);
    assert_eq!(r.body["toast"]["type"], "success");
    let r =
        app.post("/api/users/create", None, json!({"username": "second", "password": USER_PASSWORD})).await;
    assert_eq!(r.body["is_admin"], false);
    let (token, _) = app.login("second", USER_PASSWORD).await;
    assert_eq!(app.get("/api/users/me", Some(&token)).await.body["is_admin"], false);
}

#[tokio::test]
async fn a_username_is_unique_without_regard_to_case() {
    let app = spawn_app().await;
    app.user("alice").await;
    let r =
        app.post("/api/users/create", None, json!({"username": " ALICE ", "password": USER_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "username_taken"));
}

#[tokio::test]
async fn registration_refuses_bad_input_with_400_never_500() {
    let app = spawn_app().await;
    for (body, code) in [
        (json!({"username": "bob"}), "invalid_request"),
        (json!({"password": USER_PASSWORD}), "invalid_request"),
        (json!({"username": 7, "password": USER_PASSWORD}), "invalid_request"),
        (json!({"username": "", "password": USER_PASSWORD}), "invalid_username"),
        (json!({"username": "bob", "password": ""}), "invalid_password"),
        (json!({"username": "bob", "password": "qwertyuiop"}), "weak_password"),
        (json!(["bob"]), "invalid_request"),
    ] {
        let r = app.post("/api/users/create", None, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, code), "{body}");
        assert!(r.body["error"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let r = app.post_raw("/api/users/create", "application/json", "{\"username\": \"bob\",").await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_request"));
    let r = app.post_raw("/api/users/login", "text/plain", "username=bob").await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_request"));
    assert_eq!(app.get("/api/users/setup-required", None).await.body["setup_required"], true);
}

#[tokio::test]
async fn registration_can_be_turned_off_by_an_admin() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    assert_eq!(app.get("/api/users/registration-allowed", None).await.body, json!({"allowed": true}));
    let r = app.patch("/api/users/registration-allowed", Some(&admin), json!({"allowed": false})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get("/api/users/registration-allowed", None).await.body, json!({"allowed": false}));
    let r = app.post("/api/users/create", None, json!({"username": "late", "password": USER_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "registration_disabled"));
}

#[tokio::test]
async fn users_login_reports_the_user_and_remember_me_lasts_thirty_days() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(r.body["success"], true);
    assert_eq!(r.body["is_admin"], true);
    assert_eq!(r.body["username"], "admin");
    assert!(r.body["userId"].is_string() && r.body["token"].is_string());
    assert!(r.set_cookie().contains("Max-Age=86400"), "{}", r.set_cookie());

    let r = app
        .post(
            "/api/users/login",
            None,
            json!({"username": "admin", "password": ADMIN_PASSWORD, "rememberMe": true}),
        )
        .await;
    assert!(r.set_cookie().contains("Max-Age=2592000"), "{}", r.set_cookie());
    let token = r.body["token"].as_str().unwrap().to_owned();
    app.clock.advance(29 * 24 * 3600);
    assert_eq!(app.get("/api/users/me", Some(&token)).await.status, 200);
    app.clock.advance(2 * 24 * 3600);
    assert_eq!(app.get("/api/users/me", Some(&token)).await.status, 401, "expired after 30 days");
}

#[tokio::test]
async fn users_login_refuses_wrong_passwords_and_bad_input() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let r =
        app.post("/api/users/login", None, json!({"username": "admin", "password": "nope-nope-nope"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    let r = app.post("/api/users/login", None, json!({"username": "", "password": "x"})).await;
    assert_eq!(r.status, 400);
    let r = app
        .post(
            "/api/users/login",
            None,
            json!({"username": "admin", "password": ADMIN_PASSWORD, "rememberMe": "yes"}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_request"));
}

#[tokio::test]
async fn users_me_describes_the_caller() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = app.get("/api/users/me", Some(&admin)).await;
    assert_eq!(r.body["username"], "admin");
    assert_eq!(r.body["is_admin"], true);
    assert_eq!(r.body["is_oidc"], false);
    assert_eq!(r.body["is_dual_auth"], false);
    assert_eq!(r.body["totp_enabled"], false);
    assert_eq!(app.get("/api/users/me", None).await.status, 401);
}

#[tokio::test]
async fn logout_revokes_the_token_on_the_next_request() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = app.post("/api/auth/logout", Some(&admin), json!({})).await;
    assert_eq!(r.body, json!({"ok": true}));
    assert!(r.set_cookie().contains("Max-Age=0"));
    let r = app.get("/api/auth/me", Some(&admin)).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "unauthenticated"));

    let (token, _) = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(app.post("/api/users/logout", Some(&token), json!({})).await.body, json!({"success": true}));
    assert_eq!(app.get("/api/users/me", Some(&token)).await.status, 401);
}

#[tokio::test]
async fn the_session_cookie_authenticates_like_a_bearer_token() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = app
        .client
        .get(format!("{}/api/auth/me", app.base))
        .header("cookie", format!("theme=dark; jwt={admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn pages_send_visitors_to_setup_then_to_login() {
    let app = spawn_app().await;
    let r = app.get("/sessions", None).await;
    assert_eq!(r.headers["location"], "/setup");
    app.setup_admin().await;
    let r = app.get("/sessions", None).await;
    assert_eq!(r.headers["location"], "/login");
    let r = app.get("/setup", None).await;
    assert_eq!(r.headers["location"], "/login");
}

#[tokio::test]
async fn a_page_server_function_answers_errors_with_their_own_status_not_500() {
    use leptos::server_fn::ServerFn;
    let app = spawn_app().await;
    app.setup_admin().await;
    let res = app
        .client
        .post(format!("{}{}", app.base, app::api::SignIn::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body("username=admin&password=not-the-password")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let error: app::error::AppError = res.json().await.unwrap();
    assert_eq!(error.code(), "invalid_credentials");
}
