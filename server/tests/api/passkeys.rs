//! Passkeys over REST, with a software authenticator that does what a browser and a passkey
//! provider do: P-256 keys, the WebAuthn JSON a browser's `credential.toJSON()` sends,
//! discoverable credentials that answer with their user handle, and flags and counters that
//! tests can set (backup eligibility, user verification, the sign counter).
use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::Private;
use openssl::sha::sha256;
use serde_json::{json, Value};

const ORIGIN: &str = "https://auth.example.com";

/// The instance as users reach it: passkeys are bound to `auth.example.com`.
async fn spawn() -> TestApp {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    spawn_app_with(dir, app::ssr::clock::ManualClock::new(START), |s| s.public_url = ORIGIN.into()).await
}

/// A few CBOR items, enough for an attestation object and a COSE key.
enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(&'static str),
    Map(Vec<(Cbor, Cbor)>),
}

impl Cbor {
    fn head(out: &mut Vec<u8>, major: u8, n: u64) {
        match n {
            0..=23 => out.push(major << 5 | n as u8),
            24..=0xff => out.extend([major << 5 | 24, n as u8]),
            0x100..=0xffff => {
                out.push(major << 5 | 25);
                out.extend((n as u16).to_be_bytes());
            }
            _ => {
                out.push(major << 5 | 26);
                out.extend((n as u32).to_be_bytes());
            }
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(i) if *i >= 0 => Self::head(out, 0, *i as u64),
            Cbor::Int(i) => Self::head(out, 1, (-1 - *i) as u64),
            Cbor::Bytes(b) => {
                Self::head(out, 2, b.len() as u64);
                out.extend(b);
            }
            Cbor::Text(t) => {
                Self::head(out, 3, t.len() as u64);
                out.extend(t.as_bytes());
            }
            Cbor::Map(entries) => {
                Self::head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    k.encode(out);
                    v.encode(out);
                }
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// One passkey in a software authenticator.
struct SoftPasskey {
    key: EcKey<Private>,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    rp_id: String,
    /// The sign counter it sends next (0 for ever, like synced passkeys, unless a test moves it).
    counter: u32,
    /// Extra flags: `BE`/`BS` for a synced passkey.
    backup: u8,
    /// Whether it says it verified the user.
    verifies_user: bool,
    /// The origin its browser reports.
    origin: String,
    /// Whether its answers name the user (a discoverable passkey always does; a security key
    /// given a list of allowed passkeys may not).
    names_user: bool,
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    B64.decode(s.trim_end_matches('=')).expect("base64url")
}

impl SoftPasskey {
    /// Answers `navigator.credentials.create()` for `options` (`{publicKey: …}`): the new
    /// passkey and the JSON the browser would send.
    fn create(options: &Value) -> (SoftPasskey, Value) {
        let pk = &options["publicKey"];
        assert_eq!(
            pk["authenticatorSelection"]["residentKey"], "required",
            "asks for a discoverable passkey"
        );
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let mut passkey = SoftPasskey {
            key: EcKey::generate(&group).unwrap(),
            credential_id: rand::random::<[u8; 16]>().to_vec(),
            user_handle: unb64(pk["user"]["id"].as_str().unwrap()),
            rp_id: pk["rp"]["id"].as_str().unwrap().to_owned(),
            counter: 0,
            backup: 0,
            verifies_user: true,
            origin: ORIGIN.to_owned(),
            names_user: true,
        };
        let credential = passkey.attest(pk["challenge"].as_str().unwrap());
        (passkey, credential)
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    fn flags(&self) -> u8 {
        UP | self.backup | if self.verifies_user { UV } else { 0 }
    }

    fn attest(&mut self, challenge: &str) -> Value {
        let group = self.key.group();
        let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        let mut ctx = BigNumContext::new().unwrap();
        self.key.public_key().affine_coordinates(group, &mut x, &mut y, &mut ctx).unwrap();
        let cose = Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),
            (Cbor::Int(3), Cbor::Int(-7)),
            (Cbor::Int(-1), Cbor::Int(1)),
            (Cbor::Int(-2), Cbor::Bytes(x.to_vec_padded(32).unwrap())),
            (Cbor::Int(-3), Cbor::Bytes(y.to_vec_padded(32).unwrap())),
        ])
        .bytes();
        let mut auth_data = sha256(self.rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags() | AT);
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend([0u8; 16]);
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(cose);
        let attestation = Cbor::Map(vec![
            (Cbor::Text("fmt"), Cbor::Text("none")),
            (Cbor::Text("attStmt"), Cbor::Map(vec![])),
            (Cbor::Text("authData"), Cbor::Bytes(auth_data)),
        ])
        .bytes();
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&self.client_data("webauthn.create", challenge)),
            },
            "extensions": {},
        })
    }

    /// Answers `navigator.credentials.get()` for `options`, as a discoverable credential does
    /// (with its user handle).
    fn assert(&mut self, options: &Value) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = self.client_data("webauthn.get", challenge);
        let mut auth_data = sha256(self.rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags());
        auth_data.extend(self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(sha256(&client_data));
        let signature = EcdsaSig::sign(&sha256(&signed), &self.key).unwrap().to_der().unwrap();
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": if self.names_user { Value::from(b64(&self.user_handle)) } else { Value::Null },
            },
            "extensions": {},
        })
    }
}

/// Registers a passkey named `name` for the token's user; answers the device and its id.
async fn register(app: &TestApp, token: &str, name: &str) -> (SoftPasskey, String) {
    let r = app.post("/api/users/passkeys/options", Some(token), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (device, credential) = SoftPasskey::create(&r.body["options"]);
    let r = app
        .post(
            "/api/users/passkeys",
            Some(token),
            json!({"challengeId": r.body["challengeId"], "name": name, "credential": credential}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    (device, r.body["id"].as_str().unwrap().to_owned())
}

/// A passkey sign-in of the users family from start to end.
async fn sign_in_with(app: &TestApp, device: &mut SoftPasskey) -> Reply {
    let r = app.post("/api/users/login/passkey/options", None, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = device.assert(&r.body["options"]);
    app.post(
        "/api/users/login/passkey",
        None,
        json!({"challengeId": r.body["challengeId"], "credential": answer}),
    )
    .await
}

#[tokio::test]
async fn a_passkey_signs_in_without_a_username_or_password_with_both_factors() {
    let app = spawn().await;
    app.setup_admin().await;
    let (token, user_id) = app.user("alice").await;
    assert_eq!(app.get("/api/auth/providers", None).await.body["passkey"], true);
    let (mut device, id) = register(&app, &token, "Laptop").await;

    let r = app.get("/api/users/passkeys", Some(&token)).await;
    assert_eq!(r.status, 200);
    let listed = r.body["passkeys"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "Laptop");
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(listed[0]["lastUsedAt"].is_null());
    assert!(listed[0].get("passkey").is_none() && listed[0].get("credentialId").is_none());

    // Two-factor on: the passkey (user verified) still signs in at once.
    app.enable_totp(&token).await;
    let r = sign_in_with(&app, &mut device).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["userId"], user_id.as_str());
    assert_eq!(r.body["username"], "alice");
    assert!(r.set_cookie().contains("jwt="), "sets the session cookie");
    let new_token = r.body["token"].as_str().unwrap();
    let me = app.get("/api/users/me", Some(new_token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(
        app.sql_count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = '{user_id}' AND second_factor_at IS NOT NULL"
        ))
        .await,
        1,
        "the session counts as two factors"
    );
    let r = app.get("/api/users/passkeys", Some(&token)).await;
    assert!(r.body["passkeys"][0]["lastUsedAt"].is_string());

    // The auth-api family: the same, in its own answer.
    let r = app.post("/api/auth/login/passkey/options", None, json!({"autofill": true})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["options"]["mediation"], "conditional", "autofill asks for conditional mediation");
    let answer = device.assert(&r.body["options"]);
    let r = app
        .post(
            "/api/auth/login/passkey",
            None,
            json!({"challengeId": r.body["challengeId"], "credential": answer}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["username"], "alice");

    let events = app
        .sql_count("SELECT COUNT(*) FROM audit_events WHERE type = 'sign_in' AND outcome = 'success' AND details LIKE '%passkey%'")
        .await;
    assert_eq!(events, 2);
}

#[tokio::test]
async fn replayed_foreign_expired_or_unverified_answers_are_refused_alike() {
    let app = spawn().await;
    app.setup_admin().await;
    let (token, _) = app.user("bob").await;
    let (mut device, _) = register(&app, &token, "Phone").await;

    // A replay: the same answer to the same challenge a second time.
    let r = app.post("/api/users/login/passkey/options", None, json!({})).await;
    assert!(r.body["options"].get("mediation").is_none_or(Value::is_null), "a dialog, not autofill");
    let answer = device.assert(&r.body["options"]);
    let body = json!({"challengeId": r.body["challengeId"], "credential": answer});
    assert_eq!(app.post("/api/users/login/passkey", None, body.clone()).await.status, 200);
    let again = app.post("/api/users/login/passkey", None, body).await;
    assert_eq!(again.status, 401);
    assert_eq!(again.code(), "invalid_credentials");

    // Another site's page asking this passkey.
    device.origin = "https://evil.example.net".into();
    let r = sign_in_with(&app, &mut device).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    device.origin = ORIGIN.into();

    // A ceremony older than 5 minutes.
    let r = app.post("/api/users/login/passkey/options", None, json!({})).await;
    app.clock.advance(5 * 60 + 1);
    let answer = device.assert(&r.body["options"]);
    let r = app
        .post(
            "/api/users/login/passkey",
            None,
            json!({"challengeId": r.body["challengeId"], "credential": answer}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));

    // An authenticator that did not verify the user.
    device.verifies_user = false;
    let r = sign_in_with(&app, &mut device).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    device.verifies_user = true;

    // A signature that does not match (a tampered answer).
    let r = app.post("/api/users/login/passkey/options", None, json!({})).await;
    let mut answer = device.assert(&r.body["options"]);
    let other =
        device.assert(&app.post("/api/users/login/passkey/options", None, json!({})).await.body["options"]);
    answer["response"]["signature"] = other["response"]["signature"].clone();
    let r = app
        .post(
            "/api/users/login/passkey",
            None,
            json!({"challengeId": r.body["challengeId"], "credential": answer}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));

    // An unknown passkey, and garbage, get the same answers as a wrong one.
    let mut stranger = SoftPasskey { credential_id: vec![7; 16], ..device_clone(&device) };
    let r = sign_in_with(&app, &mut stranger).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    let r = app
        .post("/api/users/login/passkey", None, json!({"challengeId": "x", "credential": {"id": 1}}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_request"));
    assert_eq!(r.body["field"], "credential");

    // Still fine afterwards.
    assert_eq!(sign_in_with(&app, &mut device).await.status, 200);
}

/// The same key pair under another credential id.
fn device_clone(d: &SoftPasskey) -> SoftPasskey {
    SoftPasskey {
        key: d.key.clone(),
        credential_id: d.credential_id.clone(),
        user_handle: d.user_handle.clone(),
        rp_id: d.rp_id.clone(),
        counter: d.counter,
        backup: d.backup,
        verifies_user: d.verifies_user,
        origin: d.origin.clone(),
        names_user: d.names_user,
    }
}

#[tokio::test]
async fn counters_and_backup_flags_behave_like_real_passkeys() {
    let app = spawn().await;
    app.setup_admin().await;
    let (token, _) = app.user("carol").await;
    let (mut device, _) = register(&app, &token, "Key").await;

    // A counter of 0 every time (synced passkeys) is not a clone.
    for _ in 0..2 {
        assert_eq!(sign_in_with(&app, &mut device).await.status, 200);
    }
    // A counting key: forwards is fine, backwards (a clone) is refused.
    device.counter = 5;
    assert_eq!(sign_in_with(&app, &mut device).await.status, 200);
    device.counter = 6;
    assert_eq!(sign_in_with(&app, &mut device).await.status, 200);
    device.counter = 6;
    assert_eq!(sign_in_with(&app, &mut device).await.status, 401, "a counter that did not move");
    device.counter = 7;

    // The provider starts to sync the passkey (iCloud, KeePassXC): still the same passkey, and
    // the new flag is stored even before anything is backed up.
    device.backup = BE;
    assert_eq!(sign_in_with(&app, &mut device).await.status, 200);
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM passkeys WHERE passkey LIKE '%\"backup_eligible\":true%'").await,
        1
    );
    device.counter = 8;
    device.backup = BE | BS;
    assert_eq!(sign_in_with(&app, &mut device).await.status, 200);
    device.counter = 9;
    assert_eq!(sign_in_with(&app, &mut device).await.status, 200, "and again, with the new flags stored");
    // Eligible turning ineligible is refused.
    device.counter = 10;
    device.backup = 0;
    assert_eq!(sign_in_with(&app, &mut device).await.status, 401);
}

#[tokio::test]
async fn passkeys_are_named_limited_to_ten_and_removed_at_once() {
    let app = spawn().await;
    let admin = app.setup_admin().await;
    let (token, user_id) = app.user("dave").await;

    // Adding one needs a recent sign-in.
    app.clock.advance(11 * 60);
    let r = app.post("/api/users/passkeys/options", Some(&token), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "reauthentication_required"));
    let (token, _) = app.login("dave", USER_PASSWORD).await;

    // A name is required; a bad one keeps the ceremony for another try.
    let r = app.post("/api/users/passkeys/options", Some(&token), json!({})).await;
    let challenge = r.body["challengeId"].clone();
    let (mut device, credential) = SoftPasskey::create(&r.body["options"]);
    let bad = app
        .post(
            "/api/users/passkeys",
            Some(&token),
            json!({"challengeId": challenge, "name": "  ", "credential": credential}),
        )
        .await;
    assert_eq!((bad.status.as_u16(), bad.code()), (400, "invalid_request"));
    assert_eq!(bad.body["field"], "name");
    let r = app
        .post(
            "/api/users/passkeys",
            Some(&token),
            json!({"challengeId": challenge, "name": "Desk key", "credential": credential}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();

    // The same authenticator again: the browser is told to exclude it; if it answers anyway, 409.
    let r = app.post("/api/users/passkeys/options", Some(&token), json!({})).await;
    let excluded = r.body["options"]["publicKey"]["excludeCredentials"].as_array().unwrap();
    assert_eq!(excluded.len(), 1);
    let again = device.attest(r.body["options"]["publicKey"]["challenge"].as_str().unwrap());
    let r = app
        .post(
            "/api/users/passkeys",
            Some(&token),
            json!({"challengeId": r.body["challengeId"], "name": "Twice", "credential": again}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "passkey_exists"));

    // Another user cannot finish this user's ceremony.
    let (other, _) = app.user("erin").await;
    let r = app.post("/api/users/passkeys/options", Some(&token), json!({})).await;
    let (_, credential) = SoftPasskey::create(&r.body["options"]);
    let stolen = app
        .post(
            "/api/users/passkeys",
            Some(&other),
            json!({"challengeId": r.body["challengeId"], "name": "Mine", "credential": credential}),
        )
        .await;
    assert_eq!((stolen.status.as_u16(), stolen.code()), (400, "passkey_failed"));

    // Rename.
    let r = app.patch(&format!("/api/users/passkeys/{id}"), Some(&token), json!({"name": "YubiKey 5"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get("/api/users/passkeys", Some(&token)).await.body["passkeys"][0]["name"], "YubiKey 5");
    let r = app.patch(&format!("/api/users/passkeys/{id}"), Some(&other), json!({"name": "Mine"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "passkey_not_found"), "not someone else's");

    // Up to ten.
    for n in 2..=10 {
        register(&app, &token, &format!("Key {n}")).await;
    }
    let r = app.post("/api/users/passkeys/options", Some(&token), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "too_many_passkeys"));

    // The admin sees and revokes; the user removes: either stops sign-in at the next attempt.
    let r = app.get(&format!("/api/users/{user_id}/passkeys"), Some(&admin)).await;
    assert_eq!(r.body["passkeys"].as_array().unwrap().len(), 10);
    let r = app.get(&format!("/api/users/{user_id}/passkeys"), Some(&other)).await;
    assert_eq!(r.status, 403);
    assert_eq!(sign_in_with(&app, &mut device).await.status, 200);
    let r = app.delete(&format!("/api/users/{user_id}/passkeys/{id}"), Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = sign_in_with(&app, &mut device).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    let r = app.delete(&format!("/api/users/passkeys/{id}"), Some(&token)).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "passkey_not_found"));

    let removed = app.sql_count("SELECT COUNT(*) FROM audit_events WHERE type = 'passkey_removed'").await;
    assert_eq!(removed, 1);
}

#[tokio::test]
async fn an_ip_address_public_url_says_passkeys_are_unavailable() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    assert_eq!(app.get("/api/auth/providers", None).await.body["passkey"], false);
    let r = app.post("/api/users/login/passkey/options", None, json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "passkeys_unavailable"));
    let r = app.post("/api/users/passkeys/options", Some(&admin), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "passkeys_unavailable"));
    assert_eq!(app.get("/api/users/passkeys", Some(&admin)).await.status, 200);
}

/// Answers a user-bound ceremony from `options_path` (its body `options_body`).
async fn answer_for(
    app: &TestApp,
    token: Option<&str>,
    options_path: &str,
    options_body: Value,
    device: &mut SoftPasskey,
) -> Value {
    let r = app.post(options_path, token, options_body).await;
    assert_eq!(r.status, 200, "{options_path}: {}", r.body);
    let allowed = r.body["options"]["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed[0]["id"], b64(&device.credential_id), "offers only this user's passkeys");
    json!({"challengeId": r.body["challengeId"], "credential": device.assert(&r.body["options"])})
}

#[tokio::test]
async fn a_passkey_is_a_second_factor_after_the_password_on_both_families() {
    let app = spawn().await;
    app.setup_admin().await;
    let (token, user_id) = app.user("frank").await;
    app.enable_totp(&token).await;
    let (mut device, _) = register(&app, &token, "Phone").await;

    // users-api: password, then the passkey instead of a code.
    let r = app.post("/api/users/login", None, json!({"username": "frank", "password": USER_PASSWORD})).await;
    let temp = r.body["temp_token"].as_str().unwrap().to_owned();
    let passkey = answer_for(
        &app,
        None,
        "/api/users/totp/verify-login/passkey/options",
        json!({"temp_token": temp}),
        &mut device,
    )
    .await;
    let r = app
        .post(
            "/api/users/totp/verify-login/passkey",
            None,
            json!({"temp_token": temp, "passkey": passkey.clone()}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["userId"], user_id.as_str());
    // The step is done: neither the token nor the answer works again.
    let again = app
        .post("/api/users/totp/verify-login/passkey", None, json!({"temp_token": temp, "passkey": passkey}))
        .await;
    assert_eq!(again.status, 401);
    let r = app
        .post("/api/users/totp/verify-login", None, json!({"temp_token": temp, "totp_code": "000000"}))
        .await;
    assert_eq!(r.status, 401);

    // auth-api: the same with mfaToken; a ceremony begun for another sign-in does not count.
    let first =
        app.post("/api/auth/login", None, json!({"username": "frank", "password": USER_PASSWORD})).await;
    let second =
        app.post("/api/auth/login", None, json!({"username": "frank", "password": USER_PASSWORD})).await;
    let (a, b) = (first.body["mfaToken"].as_str().unwrap(), second.body["mfaToken"].as_str().unwrap());
    let for_a =
        answer_for(&app, None, "/api/auth/login/mfa/passkey/options", json!({"mfaToken": a}), &mut device)
            .await;
    let r = app.post("/api/auth/login/mfa/passkey", None, json!({"mfaToken": b, "passkey": for_a})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "passkey_failed"));
    let for_b =
        answer_for(&app, None, "/api/auth/login/mfa/passkey/options", json!({"mfaToken": b}), &mut device)
            .await;
    let r = app.post("/api/auth/login/mfa/passkey", None, json!({"mfaToken": b, "passkey": for_b})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["username"], "frank");

    // Another user's passkey cannot stand in.
    let (other_token, _) = app.user("grace").await;
    let (mut other, _) = register(&app, &other_token, "Grace's").await;
    let r = app.post("/api/auth/login", None, json!({"username": "frank", "password": USER_PASSWORD})).await;
    let t = r.body["mfaToken"].as_str().unwrap();
    let r = app.post("/api/auth/login/mfa/passkey/options", None, json!({"mfaToken": t})).await;
    let forged =
        json!({"challengeId": r.body["challengeId"], "credential": other.assert(&r.body["options"])});
    let r = app.post("/api/auth/login/mfa/passkey", None, json!({"mfaToken": t, "passkey": forged})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "passkey_failed"));

    let methods = app
        .sql_count("SELECT COUNT(*) FROM audit_events WHERE type = 'sign_in' AND outcome = 'success' AND details LIKE '%\"method\":\"passkey\"%'")
        .await;
    assert_eq!(methods, 2);
}

#[tokio::test]
async fn a_passkey_unlocks_the_screen_lock_and_opens_a_locked_terminal() {
    let app = spawn().await;
    app.setup_admin().await;
    let (token, _) = app.user("heidi").await;
    app.enable_totp(&token).await;
    let (mut device, id) = register(&app, &token, "Laptop").await;
    let r = app.post("/api/security/passcode", Some(&token), json!({"new_passcode": "482913"})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The screen lock: a new token, the locked one revoked.
    assert_eq!(app.post("/api/security/lock", Some(&token), json!({})).await.status, 200);
    assert_eq!(app.get("/api/users/me", Some(&token)).await.code(), "account_locked");
    // (A security key told which passkeys are allowed may leave the user's name out.)
    device.names_user = false;
    let passkey =
        answer_for(&app, Some(&token), "/api/security/unlock/passkey/options", json!({}), &mut device).await;
    device.names_user = true;
    let r = app.post("/api/security/unlock/passkey", Some(&token), passkey).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let fresh = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/users/me", Some(&fresh)).await.status, 200);
    assert_eq!(app.get("/api/users/me", Some(&token)).await.status, 401, "the locked token is revoked");

    // A terminal locked behind a second factor; a passkey opens it instead of a code.
    let r = app.post("/api/security/terminal/cont_1/mfa-lock", Some(&fresh), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post("/api/auth/ws-ticket", Some(&fresh), json!({"terminalId": "cont_1"})).await;
    assert_eq!(r.status, 403, "locked until verified");

    // A ceremony for one terminal does not open another.
    let for_other = answer_for(
        &app,
        Some(&fresh),
        "/api/security/terminal/cont_2/passkey/options",
        json!({}),
        &mut device,
    )
    .await;
    let r = app
        .post("/api/security/terminal/cont_1/mfa-verify", Some(&fresh), json!({"passkey": for_other}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "passkey_failed"));

    let passkey = answer_for(
        &app,
        Some(&fresh),
        "/api/security/terminal/cont_1/passkey/options",
        json!({}),
        &mut device,
    )
    .await;
    let r =
        app.post("/api/security/terminal/cont_1/mfa-verify", Some(&fresh), json!({"passkey": passkey})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["verified"], true);
    let r = app.post("/api/auth/ws-ticket", Some(&fresh), json!({"terminalId": "cont_1"})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Neither or both: a clear 400.
    let r = app.post("/api/security/terminal/cont_1/mfa-verify", Some(&fresh), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_request"));

    // mfa-unlock with a passkey removes the lock.
    let passkey = answer_for(
        &app,
        Some(&fresh),
        "/api/security/terminal/cont_1/passkey/options",
        json!({}),
        &mut device,
    )
    .await;
    let r =
        app.post("/api/security/terminal/cont_1/mfa-unlock", Some(&fresh), json!({"passkey": passkey})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get("/api/security/terminal/cont_1/mfa-status", Some(&fresh)).await.body["locked"], false);

    // A passkey removed between the options and the answer opens nothing.
    assert_eq!(app.post("/api/security/lock", Some(&fresh), json!({})).await.status, 200);
    let r = app.post("/api/security/unlock/passkey/options", Some(&fresh), json!({})).await;
    let answer =
        json!({"challengeId": r.body["challengeId"], "credential": device.assert(&r.body["options"])});
    app.sql(&format!("DELETE FROM passkeys WHERE id = '{id}'")).await;
    let r = app.post("/api/security/unlock/passkey", Some(&fresh), answer).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "passkey_failed"));
    let r = app.post("/api/security/unlock/passkey/options", Some(&fresh), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "passkey_not_found"));
    let r = app.post("/api/security/unlock", Some(&fresh), json!({"passcode": "482913"})).await;
    assert_eq!(r.status, 200, "the passcode still works");
}

#[tokio::test]
async fn removing_needs_the_owner_and_sign_in_follows_the_accounts_own_method() {
    let app = spawn().await;
    let admin = app.setup_admin().await;
    let (token, user_id) = app.user("ivan").await;
    let (mut device, id) = register(&app, &token, "Laptop").await;

    // An API key cannot add a passkey; an old session cannot remove one.
    let r = app.post("/api/users/api-keys", Some(&admin), json!({"name": "k", "userId": user_id})).await;
    let key = r.body["token"].as_str().unwrap().to_owned();
    let r = app.post("/api/users/passkeys/options", Some(&key), json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "session_required"));
    let r = app.delete(&format!("/api/users/passkeys/{id}"), Some(&key)).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "session_required"));
    app.clock.advance(11 * 60);
    let r = app.delete(&format!("/api/users/passkeys/{id}"), Some(&token)).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "reauthentication_required"));

    // Password sign-in turned off: the passkeys standing in for passwords stop too.
    let r = app.patch("/api/users/password-login-allowed", Some(&admin), json!({"allowed": false})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = sign_in_with(&app, &mut device).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    let r = app.patch("/api/users/password-login-allowed", Some(&admin), json!({"allowed": true})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(sign_in_with(&app, &mut device).await.status, 200);

    // A passwordless answer must name its user.
    device.names_user = false;
    let r = sign_in_with(&app, &mut device).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
}

#[tokio::test]
async fn a_second_step_token_that_died_of_wrong_codes_stays_dead_for_passkeys() {
    let app = spawn().await;
    app.setup_admin().await;
    let (token, _) = app.user("judy").await;
    app.enable_totp(&token).await;
    let (mut device, _) = register(&app, &token, "Phone").await;
    let r = app.post("/api/auth/login", None, json!({"username": "judy", "password": USER_PASSWORD})).await;
    let t = r.body["mfaToken"].as_str().unwrap().to_owned();
    let passkey =
        answer_for(&app, None, "/api/auth/login/mfa/passkey/options", json!({"mfaToken": t}), &mut device)
            .await;
    for _ in 0..5 {
        let r = app.post("/api/auth/login/mfa", None, json!({"mfaToken": t, "code": "000000"})).await;
        assert_eq!(r.status, 401);
    }
    let r = app.post("/api/auth/login/mfa/passkey", None, json!({"mfaToken": t, "passkey": passkey})).await;
    assert!(matches!(r.status.as_u16(), 401 | 429), "{}: {}", r.status, r.body);
}

/// A page's passkey button (`enhance.js`): a server function under `/rpc/passkey/`, with the
/// browser's cookies and a form body, answering JSON.
async fn rpc(app: &TestApp, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Reply {
    let res = app
        .client
        .post(format!("{}/rpc/passkey/{path}", app.base))
        .header("cookie", cookie)
        .header("accept", "application/json")
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    Reply { status, body, headers }
}

/// The ceremony a page's `…/options` began, answered by `device`: the fields its finishing
/// call sends.
fn page_answer(r: &Reply, device: &mut SoftPasskey) -> (String, String) {
    assert_eq!(r.status, 200, "{}", r.body);
    let options: Value = serde_json::from_str(r.body["options"].as_str().unwrap()).unwrap();
    (r.body["challenge_id"].as_str().unwrap().to_owned(), device.assert(&options).to_string())
}

#[tokio::test]
async fn the_pages_passkey_buttons_finish_the_second_step_unlock_and_step_up() {
    use app::ssr::http::{MFA_COOKIE, TRUSTED_DEVICE_COOKIE};
    let app = spawn().await;
    app.setup_admin().await;
    let (token, _) = app.user("ivan").await;
    app.enable_totp(&token).await;
    let (mut device, _) = register(&app, &token, "Phone").await;

    // The second-step page: the password step left its token in the pc_mfa cookie.
    let r = app.post("/api/users/login", None, json!({"username": "ivan", "password": USER_PASSWORD})).await;
    let mfa = format!("{MFA_COOKIE}={}", r.body["temp_token"].as_str().unwrap());
    let (challenge, credential) =
        page_answer(&rpc(&app, "second-step/options", &mfa, &[]).await, &mut device);
    let done = rpc(
        &app,
        "second-step",
        &mfa,
        &[
            ("challenge_id", &challenge),
            ("credential", &credential),
            ("trust", "on"),
            ("rd", "https://evil.example/"),
        ],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body, "/", "a way back that is not this instance's is dropped");
    let jwt = cookie_value(&done, "jwt").expect("signed in");
    assert!(cookie_value(&done, TRUSTED_DEVICE_COOKIE).is_some_and(|v| !v.is_empty()), "trusted");
    assert_eq!(cookie_value(&done, MFA_COOKIE).as_deref(), Some(""), "the step's cookie is cleared");
    assert_eq!(app.get("/api/users/me", Some(&jwt)).await.status, 200);
    // Done once: the same token and answer do not sign in again.
    let again =
        rpc(&app, "second-step", &mfa, &[("challenge_id", &challenge), ("credential", &credential)]).await;
    assert_eq!((again.status.as_u16(), again.body["kind"].as_str()), (401, Some("InvalidToken")));

    // The step-up page, no terminal: a passkey proves a second factor for this session
    // (a password-only session, here).
    // (`token` is from before two-factor was on: a password only.)
    let plain = token;
    let proved = "SELECT COUNT(*) FROM sessions WHERE second_factor_at IS NOT NULL";
    assert_eq!(app.sql_count(proved).await, 1, "only the passkey second step's session");
    let cookie = format!("jwt={plain}");
    let (challenge, credential) = page_answer(&rpc(&app, "step-up/options", &cookie, &[]).await, &mut device);
    // A step-up ceremony does not unlock a screen lock, nor serve another session.
    let r = rpc(&app, "unlock", &cookie, &[("challenge_id", &challenge), ("credential", &credential)]).await;
    assert_eq!((r.status.as_u16(), r.body["kind"].as_str()), (400, Some("PasskeyFailed")));
    let (challenge, credential) = page_answer(&rpc(&app, "step-up/options", &cookie, &[]).await, &mut device);
    let other = format!("jwt={jwt}");
    let r = rpc(&app, "step-up", &other, &[("challenge_id", &challenge), ("credential", &credential)]).await;
    assert_eq!((r.status.as_u16(), r.body["kind"].as_str()), (400, Some("PasskeyFailed")));
    let (challenge, credential) = page_answer(&rpc(&app, "step-up/options", &cookie, &[]).await, &mut device);
    let r = rpc(&app, "step-up", &cookie, &[("challenge_id", &challenge), ("credential", &credential)]).await;
    assert_eq!((r.status, &r.body), (reqwest::StatusCode::OK, &json!("/")));
    assert_eq!(app.sql_count(proved).await, 2, "this session proved a second factor");
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM audit_events WHERE type = 'step_up' AND outcome = 'success' AND details LIKE '%passkey%'").await,
        1
    );

    // The lock screen: a new session, the locked one revoked.
    let r = app.post("/api/security/passcode", Some(&plain), json!({"new_passcode": "482913"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.post("/api/security/lock", Some(&plain), json!({})).await.status, 200);
    let (challenge, credential) = page_answer(&rpc(&app, "unlock/options", &cookie, &[]).await, &mut device);
    let r = rpc(&app, "unlock", &cookie, &[("challenge_id", &challenge), ("credential", &credential)]).await;
    assert_eq!((r.status, &r.body), (reqwest::StatusCode::OK, &json!("")));
    let fresh = cookie_value(&r, "jwt").expect("a new session cookie");
    assert_eq!(app.get("/api/users/me", Some(&fresh)).await.status, 200);
    assert_eq!(app.get("/api/users/me", Some(&plain)).await.status, 401, "the locked session is revoked");
}
