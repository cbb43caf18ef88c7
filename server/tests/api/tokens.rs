use crate::helpers::*;
use app::ssr::services::tokens::{mint, TokenKind};
use base64::Engine;
use serde_json::{json, Value};

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn claims_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn a_token_of_another_kind_is_refused_even_for_a_live_session() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let c = claims_of(&admin);
    let now = app.clock_now();
    for kind in [TokenKind::MfaPending, TokenKind::Reset] {
        let other = mint(
            &app.state.keys,
            kind,
            c["sub"].as_str().unwrap(),
            c["sid"].as_str().unwrap(),
            now,
            now + 600,
            None,
        )
        .unwrap();
        let r = app.get("/api/auth/me", Some(&other)).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "unauthenticated"), "{kind:?}");
    }
    assert_eq!(app.get("/api/auth/me", Some(&admin)).await.status, 200);
}

#[tokio::test]
async fn an_alg_none_token_is_refused() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let forged = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims_of(&admin)));
    assert_eq!(app.get("/api/auth/me", Some(&forged)).await.status, 401);
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    let admin_session = app.login("admin", ADMIN_PASSWORD).await.0;
    // Alice's signature over the admin's claims.
    let sig = alice.split('.').nth(2).unwrap();
    let header = alice.split('.').next().unwrap();
    let forged = format!("{header}.{}.{sig}", b64(&claims_of(&admin_session)));
    assert_eq!(app.get("/api/auth/me", Some(&forged)).await.status, 401);
    assert_eq!(app.get("/api/auth/me", Some("not-a-token")).await.status, 401);
    assert_eq!(app.get("/api/auth/me", Some(&format!("{alice}x"))).await.status, 401);
}

#[tokio::test]
async fn a_token_signed_with_another_instance_key_is_refused() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let c = claims_of(&admin);
    let foreign = app::ssr::keys::InstanceKeys::from_secret("someone-elses-secret-key-0123456789").unwrap();
    let now = app.clock_now();
    let t = mint(
        &foreign,
        TokenKind::Access,
        c["sub"].as_str().unwrap(),
        c["sid"].as_str().unwrap(),
        now,
        now + 600,
        None,
    )
    .unwrap();
    assert_eq!(app.get("/api/auth/me", Some(&t)).await.status, 401);
}

#[tokio::test]
async fn an_expired_session_is_rejected() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.clock.advance(24 * 3600 - 1);
    assert_eq!(app.get("/api/auth/me", Some(&admin)).await.status, 200);
    app.clock.advance(1);
    assert_eq!(app.get("/api/auth/me", Some(&admin)).await.status, 401);
}

impl TestApp {
    fn clock_now(&self) -> i64 {
        use app::ssr::clock::Clock;
        self.clock.now()
    }
}
