//! Single sign-on settings, the start of the flow and every way a callback is refused.
//! The whole flow against a real OpenID provider runs in Playwright (end2end/tests/07-oidc).
use crate::helpers::*;
use app::ssr::db::oidc::ProviderIdentity;
use app::ssr::db::users::{insert, Admission, NewUser};
use serde_json::{json, Value};

const SECRET: &str = "client-secret-that-must-stay-secret";

fn settings() -> Value {
    json!({
        "client_id": "portcullis",
        "client_secret": SECRET,
        "issuer_url": "http://127.0.0.1:9/",
        "authorization_url": "http://127.0.0.1:9/auth",
        "token_url": "http://127.0.0.1:9/token",
        "scopes": "openid email profile",
        "allowed_users": "@example.org",
    })
}

async fn configured() -> (TestApp, String) {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = app.post("/api/users/oidc-config", Some(&admin), settings()).await;
    assert_eq!(r.body, json!({"success": true}));
    (app, admin)
}

fn location(r: &Reply) -> String {
    r.headers.get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn settings_are_admin_only_complete_and_the_secret_stays_sealed() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    assert_eq!(app.get("/api/users/oidc-config", None).await.body, Value::Null);
    assert_eq!(app.post("/api/users/oidc-config", Some(&alice), settings()).await.status, 403);
    let mut partial = settings();
    partial["token_url"] = json!("");
    let r = app.post("/api/users/oidc-config", Some(&admin), partial).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "incomplete_config"));
    let mut bad = settings();
    bad["issuer_url"] = json!("not a url");
    assert_eq!(app.post("/api/users/oidc-config", Some(&admin), bad).await.status, 400);
    assert_eq!(app.post("/api/users/oidc-config", Some(&admin), settings()).await.status, 200);

    // The issuer is kept exactly as given: it is compared exactly with what the provider says.
    let public = app.get("/api/users/oidc-config", None).await.body;
    assert_eq!(
        public,
        json!({"client_id": "portcullis", "issuer_url": "http://127.0.0.1:9/", "authorization_url": "http://127.0.0.1:9/auth", "scopes": "openid email profile"})
    );
    assert_eq!(app.get("/api/users/oidc-config/admin", Some(&alice)).await.status, 403);
    let full = app.get("/api/users/oidc-config/admin", Some(&admin)).await.body;
    assert_eq!(full["client_secret"], SECRET);
    assert_eq!(full["identifier_path"], "sub");
    let stored = app.at_rest();
    assert!(!stored.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "sealed at rest");
    let providers = app.get("/api/auth/providers", None).await.body;
    assert_eq!(providers["oidc"], true);
    // Saving without the secret keeps it; all empty turns single sign-on off.
    let mut keep = settings();
    keep["client_secret"] = json!("");
    assert_eq!(app.post("/api/users/oidc-config", Some(&admin), keep).await.status, 200);
    assert_eq!(app.get("/api/users/oidc-config/admin", Some(&admin)).await.body["client_secret"], SECRET);
    assert_eq!(
        app.post("/api/users/oidc-config", Some(&admin), json!({"client_id": "", "client_secret": null}))
            .await
            .status,
        200
    );
    assert_eq!(app.get("/api/users/oidc-config", None).await.body, Value::Null);
    app.post("/api/users/oidc-config", Some(&admin), settings()).await;
    assert_eq!(app.delete("/api/users/oidc-config", Some(&admin)).await.body, json!({"success": true}));
    assert_eq!(app.get("/api/auth/providers", None).await.body["oidc"], false);
}

#[tokio::test]
async fn authorize_builds_a_pkce_request_or_answers_404_when_off() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let r = app.get("/api/users/oidc/authorize", None).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "oidc_disabled"));
    assert_eq!(app.get("/api/auth/oidc/authorize", None).await.status, 404);
    let (app, _) = configured().await;
    let r = app.get("/api/users/oidc/authorize?rememberMe=true", None).await;
    assert_eq!(r.status, 200);
    let url = r.body["auth_url"].as_str().unwrap();
    let state = r.body["state"].as_str().unwrap();
    let nonce = r.body["nonce"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:9/auth?response_type=code&client_id=portcullis"), "{url}");
    assert!(url.contains(&format!("state={state}")) && url.contains(&format!("nonce={nonce}")));
    assert!(url.contains("code_challenge_method=S256") && url.contains("code_challenge="));
    assert!(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%2Fapi%2Fusers%2Foidc%2Fcallback"), "{url}");
    let r = app.get("/api/auth/oidc/authorize", None).await;
    assert!(r.body["url"]
        .as_str()
        .unwrap()
        .contains("redirect_uri=http%3A%2F%2F127.0.0.1%2Fapi%2Fauth%2Foidc%2Fcallback"));
    let r = app.get("/api/users/oidc/login", None).await;
    assert_eq!(r.status, 303);
    assert!(location(&r).starts_with("http://127.0.0.1:9/auth?"));
}

#[tokio::test]
async fn a_callback_with_an_unknown_or_reused_state_is_sent_back_with_a_reason() {
    let (app, _) = configured().await;
    let r = app.get("/api/users/oidc/callback?code=abc&state=forged", None).await;
    assert_eq!(r.status, 303);
    assert!(location(&r).starts_with("/login?error="), "{}", location(&r));
    assert!(!r.set_cookie().contains("jwt="), "no session");
    let r = app.get("/api/auth/oidc/callback?code=abc&state=forged", None).await;
    assert!(location(&r).starts_with("/?sso_error="), "{}", location(&r));
    let r = app.get("/api/users/oidc/callback", None).await;
    assert!(location(&r).starts_with("/login?error="));
    let r = app.get("/api/users/oidc/callback?error=access_denied&state=x", None).await;
    assert!(location(&r).starts_with("/login?error="));
    // A state from the other flow does not finish this one, and the provider being down is a
    // clear failure, not a 500.
    let started = app.get("/api/auth/oidc/authorize", None).await.body["url"].as_str().unwrap().to_owned();
    let state = started.split("state=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let r = app.get(&format!("/api/users/oidc/callback?code=abc&state={state}"), None).await;
    assert!(location(&r).contains("expired"), "{}", location(&r));
    let started = app.get("/api/auth/oidc/authorize", None).await.body["url"].as_str().unwrap().to_owned();
    let state = started.split("state=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let r = app.get(&format!("/api/auth/oidc/callback?code=abc&state={state}"), None).await;
    assert!(location(&r).starts_with("/?sso_error="), "{}", location(&r));
    let again = app.get(&format!("/api/auth/oidc/callback?code=abc&state={state}"), None).await;
    assert!(location(&again).contains("expired"), "a state works once: {}", location(&again));
}

/// An SSO-only account as the first sign-in would make it.
async fn sso_user(app: &TestApp, name: &str, subject: &str) -> String {
    let id = uuid_like(name);
    let key = name.to_ascii_lowercase();
    let row = NewUser {
        id: &id,
        username: name,
        username_key: &key,
        display_name: name,
        password_hash: None,
        ldap_dn: None,
        oidc: Some(&ProviderIdentity { issuer: "http://127.0.0.1:9/".into(), subject: subject.into() }),
        now: app.now(),
    };
    insert(&app.state.pool, &row, Admission::AdminIfFirst).await.unwrap();
    id
}

fn uuid_like(seed: &str) -> String {
    format!("00000000-0000-4000-8000-{:0>12}", seed.len())
}

#[tokio::test]
async fn an_sso_account_links_into_a_password_account_and_unlinks_again() {
    let (app, admin) = configured().await;
    let (alice, alice_id) = app.user("alice").await;
    let sso = sso_user(&app, "alice-sso", "sub-alice").await;
    let list = app.get("/api/users/list", Some(&admin)).await.body;
    assert!(list["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["username"] == "alice-sso" && u["is_oidc"] == true));
    assert_eq!(
        app.post(
            "/api/users/link-oidc-to-password",
            Some(&alice),
            json!({"oidcUserId": sso, "targetUsername": "alice"})
        )
        .await
        .status,
        403
    );
    let r = app
        .post(
            "/api/users/link-oidc-to-password",
            Some(&admin),
            json!({"oidcUserId": alice_id, "targetUsername": "admin"}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "not_oidc_only"));
    assert_eq!(
        app.post(
            "/api/users/link-oidc-to-password",
            Some(&admin),
            json!({"oidcUserId": "nope", "targetUsername": "alice"})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.post(
            "/api/users/link-oidc-to-password",
            Some(&admin),
            json!({"oidcUserId": sso, "targetUsername": "ghost"})
        )
        .await
        .status,
        404
    );
    let r = app
        .post(
            "/api/users/link-oidc-to-password",
            Some(&admin),
            json!({"oidcUserId": sso, "targetUsername": "alice"}),
        )
        .await;
    assert_eq!(r.body, json!({"success": true}));
    let me = app.get("/api/users/me", Some(&alice)).await.body;
    assert_eq!((me["is_oidc"].clone(), me["is_dual_auth"].clone()), (json!(true), json!(true)));
    let names: Vec<Value> = app.get("/api/users/list", Some(&admin)).await.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert!(!names.contains(&json!("alice-sso")), "the SSO-only account is merged away");
    let r = app.post("/api/users/unlink-oidc-from-password", Some(&admin), json!({"userId": alice_id})).await;
    assert_eq!(r.body, json!({"success": true}));
    assert_eq!(app.get("/api/users/me", Some(&alice)).await.body["is_dual_auth"], false);
    let r = app.post("/api/users/unlink-oidc-from-password", Some(&admin), json!({"userId": alice_id})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "not_dual"));
    for kind in ["sso_linked", "sso_unlinked"] {
        let e = &app.get(&format!("/api/admin/audit?type={kind}"), Some(&admin)).await.body["events"][0];
        assert_eq!(
            (&e["actor"]["username"], &e["user"]["username"]),
            (&json!("admin"), &json!("alice")),
            "{kind}: {e}"
        );
    }
    assert_eq!(app.post("/api/users/unlink-oidc-from-password", Some(&admin), json!({})).await.status, 400);
}

#[tokio::test]
async fn a_callback_in_a_browser_that_did_not_start_the_sign_in_is_refused() {
    let (app, _) = configured().await;
    let started = app.get("/api/users/oidc/authorize", None).await;
    let binding = cookie_value(&started, "pc_oidc").expect("the start sets the binding cookie");
    let state = started.body["state"].as_str().unwrap().to_owned();
    // The victim's browser, sent to the callback with the attacker's state: no binding cookie.
    let r = app.get(&format!("/api/users/oidc/callback?code=abc&state={state}"), None).await;
    assert!(location(&r).contains("another%20browser"), "{}", location(&r));
    assert!(!r.set_cookie().contains("jwt="), "no session");

    // The browser that started it gets past the binding (the provider at port 9 is down).
    let started = app.get("/api/users/oidc/authorize", None).await;
    let binding2 = cookie_value(&started, "pc_oidc").unwrap();
    assert_ne!(binding, binding2);
    let state = started.body["state"].as_str().unwrap().to_owned();
    let r = app
        .client
        .get(format!("{}/api/users/oidc/callback?code=abc&state={state}", app.base))
        .header("cookie", format!("pc_oidc={binding2}"))
        .send()
        .await
        .unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/login?error=") && !to.contains("another%20browser"), "{to}");
    assert!(
        r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("pc_oidc=;")),
        "the binding cookie is cleared: {:?}",
        r.headers().get_all("set-cookie")
    );
}
