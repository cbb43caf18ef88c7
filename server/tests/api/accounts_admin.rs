use crate::helpers::*;
use leptos::server_fn::ServerFn;
use serde_json::json;

const NEW_PASSWORD: &str = "sturdy-meadow-copper-58";

#[tokio::test]
async fn changing_the_password_ends_every_session_and_the_new_one_signs_in() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    let (other, _) = app.login("alice", USER_PASSWORD).await;
    let r = app
        .post(
            "/api/users/change-password",
            Some(&alice),
            json!({"oldPassword": USER_PASSWORD, "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["success"], true);
    assert!(r.set_cookie().contains("jwt=;"), "the session cookie is cleared");
    assert_eq!(app.get("/api/users/me", Some(&alice)).await.status, 401, "this session ended");
    assert_eq!(app.get("/api/users/me", Some(&other)).await.status, 401, "other sessions ended");
    let r = app.post("/api/users/login", None, json!({"username": "alice", "password": USER_PASSWORD})).await;
    assert_eq!(r.status, 401, "the old password no longer works");
    app.login("alice", NEW_PASSWORD).await;
}

#[tokio::test]
async fn changing_the_password_needs_the_right_current_one_and_a_strong_new_one() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    let r = app
        .post(
            "/api/users/change-password",
            Some(&alice),
            json!({"oldPassword": "not-my-password-1", "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    let r = app
        .post(
            "/api/users/change-password",
            Some(&alice),
            json!({"oldPassword": USER_PASSWORD, "newPassword": "password123"}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "weak_password"));
    for bad in [
        json!({"oldPassword": USER_PASSWORD}),
        json!({"newPassword": NEW_PASSWORD}),
        json!({"oldPassword": "", "newPassword": NEW_PASSWORD}),
        json!({"oldPassword": 5, "newPassword": NEW_PASSWORD}),
    ] {
        assert_eq!(
            app.post("/api/users/change-password", Some(&alice), bad.clone()).await.status,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        app.post(
            "/api/users/change-password",
            None,
            json!({"oldPassword": USER_PASSWORD, "newPassword": NEW_PASSWORD})
        )
        .await
        .status,
        401
    );
    assert_eq!(app.get("/api/users/me", Some(&alice)).await.status, 200, "failed attempts change nothing");
    app.login("alice", USER_PASSWORD).await;
}

#[tokio::test]
async fn the_user_list_shows_every_user_without_secrets() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    let r = app.get("/api/users/list", Some(&alice)).await;
    assert_eq!(r.status, 200);
    let users = r.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["username"], "admin");
    assert_eq!(users[0]["is_admin"], true);
    assert_eq!(users[1]["username"], "alice");
    for key in ["id", "username", "is_admin", "is_oidc", "totp_enabled", "created_at"] {
        assert!(users[1].get(key).is_some(), "{key}");
    }
    assert!(!r.body.to_string().contains("argon2"), "no hashes");
    assert_eq!(app.get("/api/users/list", None).await.status, 401);
    app.enable_totp(&admin).await;
    let r = app.get("/api/users/list", Some(&alice)).await;
    assert_eq!(r.body["users"][0]["totp_enabled"], true);
}

#[tokio::test]
async fn admins_grant_and_remove_the_admin_role_which_applies_on_the_next_request() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, alice_id) = app.user("alice").await;
    assert_eq!(app.get("/api/users/count", Some(&alice)).await.status, 403);
    assert_eq!(
        app.post("/api/users/make-admin", Some(&alice), json!({"username": "alice"})).await.status,
        403,
        "not an admin"
    );
    let r = app.post("/api/users/make-admin", Some(&admin), json!({"userId": alice_id})).await;
    assert_eq!(r.body, json!({"success": true}));
    assert_eq!(app.get("/api/users/count", Some(&alice)).await.status, 200, "alice is admin at once");
    let r = app.post("/api/users/make-admin", Some(&admin), json!({"username": "ALICE"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "already_admin"));
    let r = app.post("/api/users/remove-admin", Some(&admin), json!({"username": "alice"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get("/api/users/count", Some(&alice)).await.status, 403, "alice is a user again at once");
    let r = app.post("/api/users/remove-admin", Some(&admin), json!({"username": "alice"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "not_admin"));
    let r = app.post("/api/users/remove-admin", Some(&admin), json!({"username": "admin"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "cannot_demote_self"));
    assert_eq!(
        app.post("/api/users/make-admin", Some(&admin), json!({"username": "nobody"})).await.status,
        404
    );
    assert_eq!(app.post("/api/users/make-admin", Some(&admin), json!({})).await.status, 400);
    assert_eq!(app.post("/api/users/make-admin", Some(&admin), json!({"userId": 7})).await.status, 400);
}

#[tokio::test]
async fn deleting_your_own_account_needs_the_password_and_never_removes_the_last_admin() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    let r = app
        .delete_with("/api/users/delete-account", Some(&alice), json!({"password": "wrong-password-here"}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    assert_eq!(app.delete_with("/api/users/delete-account", Some(&alice), json!({})).await.status, 400);
    let r =
        app.delete_with("/api/users/delete-account", Some(&admin), json!({"password": ADMIN_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "last_admin"));
    assert_eq!(app.get("/api/users/me", Some(&admin)).await.status, 200, "the admin is still there");
    let r =
        app.delete_with("/api/users/delete-account", Some(&alice), json!({"password": USER_PASSWORD})).await;
    assert_eq!(r.body, json!({"success": true}));
    assert_eq!(app.get("/api/users/me", Some(&alice)).await.status, 401, "the session went with the account");
    let r = app.post("/api/users/login", None, json!({"username": "alice", "password": USER_PASSWORD})).await;
    assert_eq!(r.status, 401);
    assert_eq!(app.get("/api/users/count", Some(&admin)).await.body, json!({"count": 1}));
    // The name is free again.
    app.user("alice").await;
}

#[tokio::test]
async fn admins_delete_other_users_with_everything_they_had() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, alice_id) = app.user("alice").await;
    app.enable_totp(&alice).await;
    let r = app
        .post("/api/users/api-keys", Some(&admin), json!({"name": "alice's script", "userId": alice_id}))
        .await;
    let key = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.delete_with("/api/users/delete-user", Some(&alice), json!({"username": "admin"})).await.status,
        403
    );
    let r = app.delete_with("/api/users/delete-user", Some(&admin), json!({"username": "admin"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "cannot_delete_self"));
    assert_eq!(
        app.delete_with("/api/users/delete-user", Some(&admin), json!({"username": "ghost"})).await.status,
        404
    );
    assert_eq!(app.delete_with("/api/users/delete-user", Some(&admin), json!({})).await.status, 400);
    let r = app.delete_with("/api/users/delete-user", Some(&admin), json!({"username": "alice"})).await;
    assert_eq!(r.body, json!({"success": true}));
    assert_eq!(app.get("/api/users/me", Some(&alice)).await.status, 401, "her session is gone");
    assert_eq!(app.get("/api/users/me", Some(&key)).await.status, 401, "her API key is gone");
    assert_eq!(app.get("/api/users/api-keys", Some(&admin)).await.body, json!({"apiKeys": []}));
    let sessions = app.get("/api/users/sessions", Some(&admin)).await;
    assert!(sessions.body["sessions"].as_array().unwrap().iter().all(|s| s["username"] == "admin"));
}

#[tokio::test]
async fn a_demoted_admin_cannot_leave_the_instance_without_an_admin() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, alice_id) = app.user("alice").await;
    app.post("/api/users/make-admin", Some(&admin), json!({"userId": alice_id})).await;
    // Two admins: alice can delete the first admin, and is then the last one.
    assert_eq!(
        app.delete_with("/api/users/delete-user", Some(&alice), json!({"username": "admin"})).await.status,
        200
    );
    let r =
        app.delete_with("/api/users/delete-account", Some(&alice), json!({"password": USER_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "last_admin"));
}

/// The set-up page's form, sent as a browser without JavaScript would.
async fn set_up_from_the_page(app: &TestApp, extra: &str) -> reqwest::Response {
    app.client
        .post(format!("{}{}", app.base, app::api::SetUpInstance::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(format!("username=admin&display_name=&password={ADMIN_PASSWORD}{extra}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_set_up_page_leaves_accounts_to_admins_and_reset_off_unless_chosen() {
    let app = spawn_app().await;
    let r = set_up_from_the_page(&app, "").await;
    assert!(r.status().is_redirection() || r.status().is_success(), "{}", r.status());
    let r =
        app.post("/api/users/create", None, json!({"username": "walkin", "password": USER_PASSWORD})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "registration_disabled"));
    let r = app.post("/api/users/initiate-reset", None, json!({"username": "admin"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "password_reset_disabled"));
    let r = app.get("/api/users/registration-allowed", None).await;
    assert_eq!(r.body["allowed"], false, "{}", r.body);

    let other = spawn_app().await;
    let r = set_up_from_the_page(&other, "&who_registers=anyone&password_reset=on").await;
    assert!(r.status().is_redirection() || r.status().is_success(), "{}", r.status());
    let r =
        other.post("/api/users/create", None, json!({"username": "walkin", "password": USER_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = other.post("/api/users/initiate-reset", None, json!({"username": "walkin"})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let third = spawn_app().await;
    let r = set_up_from_the_page(&third, "&who_registers=everyone").await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        third.get("/api/users/setup-required", None).await.body["setup_required"],
        true,
        "nothing made"
    );
}

#[tokio::test]
async fn rest_set_up_keeps_the_documents_behaviour_unless_asked_otherwise() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let r =
        app.post("/api/users/create", None, json!({"username": "walkin", "password": USER_PASSWORD})).await;
    assert_eq!(r.status, 200, "registration stays on: {}", r.body);

    let closed = spawn_app().await;
    let r = closed
        .post(
            "/api/auth/setup",
            None,
            json!({"username": "admin", "password": ADMIN_PASSWORD, "allowRegistration": false, "allowPasswordReset": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = closed
        .post("/api/users/create", None, json!({"username": "walkin", "password": USER_PASSWORD}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "registration_disabled"));
    let r = closed.post("/api/users/initiate-reset", None, json!({"username": "admin"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "password_reset_disabled"));
}

/// The admin area's "Add a person", as its form posts: the status and the JSON answer.
async fn add_person(app: &TestApp, cookie: &str, fields: &str) -> (u16, serde_json::Value) {
    app.form(app::api::CreateUser::PATH, Some(cookie), fields).await
}

#[tokio::test]
async fn admins_add_people_while_registration_is_off_and_nobody_else_can() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (user, _) = app.user("mallory").await;
    app.patch("/api/users/registration-allowed", Some(&admin), json!({"allowed": false})).await;
    let as_admin = format!("jwt={admin}");
    let grace = format!("username=Grace&display_name=Grace+H&password={USER_PASSWORD}&role=user");
    let (status, body) = add_person(&app, &as_admin, &grace).await;
    assert_eq!(status, 200, "{body}");
    let (token, _) = app.login("grace", USER_PASSWORD).await;
    let me = app.get("/api/auth/me", Some(&token)).await;
    assert_eq!(
        (me.body["user"]["displayName"].as_str(), me.body["user"]["role"].as_str()),
        (Some("Grace H"), Some("user"))
    );

    let ops = format!("username=ops&display_name=&password={USER_PASSWORD}&role=admin");
    assert_eq!(add_person(&app, &as_admin, &ops).await.0, 200);
    let (token, _) = app.login("ops", USER_PASSWORD).await;
    assert_eq!(app.get("/api/auth/me", Some(&token)).await.body["user"]["role"], "admin");

    let taken = format!("username=GRACE&display_name=&password={USER_PASSWORD}");
    let (status, body) = add_person(&app, &as_admin, &taken).await;
    assert_eq!(status, 409);
    assert_eq!(body["field"], "username", "the error names its field: {body}");
    assert_eq!(add_person(&app, &as_admin, "username=weak&display_name=&password=password").await.0, 400);

    let sneaky = format!("username=sneaky&display_name=&password={USER_PASSWORD}");
    assert_eq!(add_person(&app, &format!("jwt={user}"), &sneaky).await.0, 403);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM users WHERE username_key IN ('sneaky', 'weak')").await, 0);

    // A new account is a new way in: an admin session from more than ten minutes ago (a stolen
    // cookie, a forgotten tab) types the password again first.
    app.clock.advance(10 * 60 + 1);
    let later = format!("username=later&display_name=&password={USER_PASSWORD}&role=admin");
    let (status, body) = add_person(&app, &as_admin, &later).await;
    assert_eq!(status, 403);
    assert_eq!(body["kind"], "ReauthenticationRequired", "{body}");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM users WHERE username_key = 'later'").await, 0);
    let r = app.post("/api/users/reauthenticate", Some(&admin), json!({"password": ADMIN_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(add_person(&app, &as_admin, &later).await.0, 200);
}
