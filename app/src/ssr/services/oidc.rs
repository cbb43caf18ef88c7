//! Single sign-on with an OpenID Connect provider (authorization code flow with PKCE).
//!
//! Both documents' flows run this code: users-api.txt's (`/users/oidc/authorize` answers
//! `{auth_url, state, nonce}`, its callback redirects to `/`) and auth-api.txt's
//! (`/auth/oidc/authorize` answers `{url}`, its callback redirects to `/?sso=success`).
//!
//! Checks at the callback: the `state` names a flow this instance started (stored in the
//! database, so any node can finish it; it works once and for 10 minutes); the code is
//! exchanged with the client secret and the PKCE verifier; the ID token's signature is checked
//! against the provider's published keys (asymmetric algorithms only), as are its issuer,
//! audience, expiry and the nonce; userinfo, when the provider has it, must name the same
//! subject. The person is then found by the claim at `identifier_path` (default `sub`).
//!
//! Decisions: accounts are created at the first sign-in whatever the registration setting
//! says (the provider and `allowed_users` are the gate) but never before the first admin
//! exists; a provider name that collides with a local account gets a suffix (the link is the
//! subject, never the name); two-factor and single-session mode apply as for passwords.
use super::identity::AdminUser;
use crate::domain::{DisplayName, Username};
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{
    self,
    oidc::NewFlow,
    users::{Admission, NewUser},
};
use crate::ssr::keys::{digest, new_id, random_hex};
use crate::ssr::AppState;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

const CONFIG_KEY: &str = "oidc_config";
const SEAL_CONTEXT: &str = "oidc-client-secret";
const FLOW_SECS: i64 = 10 * 60;
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Which document's flow a sign-in belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Users,
    Auth,
}

impl Flow {
    fn as_str(self) -> &'static str {
        match self {
            Flow::Users => "users",
            Flow::Auth => "auth",
        }
    }
}

/// The provider settings. No `Debug`: `client_secret` must not reach a log line.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcConfig {
    pub client_id: String,
    #[serde(skip)]
    pub client_secret: String,
    pub issuer_url: String,
    pub authorization_url: String,
    pub token_url: String,
    pub userinfo_url: Option<String>,
    pub identifier_path: String,
    pub name_path: String,
    pub scopes: String,
    pub allowed_users: String,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    config: OidcConfig,
    client_secret_sealed: String,
}

/// What an admin sends (the REST body). All empty (or missing) turns single sign-on off.
#[derive(Clone, Default, Deserialize)]
pub struct ConfigInput {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub issuer_url: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub identifier_path: Option<String>,
    pub name_path: Option<String>,
    pub scopes: Option<String>,
    pub allowed_users: Option<String>,
}

pub async fn config(state: &AppState) -> Result<Option<OidcConfig>, AppError> {
    let Some(raw) = db::settings::get(&state.pool, CONFIG_KEY).await? else { return Ok(None) };
    let stored: Stored = serde_json::from_str(&raw)
        .map_err(|e| AppError::internal("stored OIDC settings do not parse", &e))?;
    let secret = state.keys.open(&stored.client_secret_sealed, SEAL_CONTEXT)?;
    let mut config = stored.config;
    config.client_secret = String::from_utf8(secret)
        .map_err(|e| AppError::internal("the sealed client secret is not UTF-8", &e))?;
    Ok(Some(config))
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or("").to_owned()
}

fn http_url(field: &'static str, raw: &str) -> Result<String, AppError> {
    let parsed = url::Url::parse(raw).map_err(|_| {
        AppError::invalid(ErrorKind::InvalidRequest, Some(field), "Give a full http(s):// URL.")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(AppError::invalid(ErrorKind::InvalidRequest, Some(field), "Give a full http(s):// URL."));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

fn path(field: &'static str, raw: &str, default: &str) -> Result<String, AppError> {
    let p = if raw.is_empty() { default } else { raw };
    if p.split('.')
        .any(|seg| seg.is_empty() || !seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some(field),
            "A claim path is names joined by dots, like sub or profile.name.",
        ));
    }
    Ok(p.to_owned())
}

/// Saves the provider settings, or with every field empty turns single sign-on off.
/// An empty secret keeps the stored one.
pub async fn save_config(admin: &AdminUser, state: &AppState, input: ConfigInput) -> Result<(), AppError> {
    // Hands out a way in (a key, a directory, a provider, a role): the admin must be at the
    // keyboard, not only their cookie.
    admin.caller().require_recent_authentication(state.now())?;
    let fields = [
        &input.client_id,
        &input.client_secret,
        &input.issuer_url,
        &input.authorization_url,
        &input.token_url,
        &input.userinfo_url,
        &input.identifier_path,
        &input.name_path,
        &input.scopes,
        &input.allowed_users,
    ];
    if fields.iter().all(|f| text(f).is_empty()) {
        return delete_config(admin, state).await;
    }
    let existing = config(state).await?;
    let mut missing = Vec::new();
    let mut need = |name: &'static str, v: &Option<String>| {
        let t = text(v);
        if t.is_empty() {
            missing.push(name);
        }
        t
    };
    let client_id = need("client_id", &input.client_id);
    let issuer = need("issuer_url", &input.issuer_url);
    let authorization = need("authorization_url", &input.authorization_url);
    let token = need("token_url", &input.token_url);
    let secret = match text(&input.client_secret) {
        s if !s.is_empty() => s,
        _ => existing.as_ref().map(|c| c.client_secret.clone()).unwrap_or_default(),
    };
    if secret.is_empty() {
        missing.push("client_secret");
    }
    if !missing.is_empty() {
        return Err(AppError::invalid(
            ErrorKind::IncompleteConfig,
            Some(missing[0]),
            format!("The OIDC settings are incomplete: give {}.", missing.join(", ")),
        ));
    }
    let userinfo = text(&input.userinfo_url);
    let config = OidcConfig {
        client_id,
        client_secret: String::new(),
        issuer_url: http_url("issuer_url", &issuer)?,
        authorization_url: http_url("authorization_url", &authorization)?,
        token_url: http_url("token_url", &token)?,
        userinfo_url: if userinfo.is_empty() { None } else { Some(http_url("userinfo_url", &userinfo)?) },
        identifier_path: path("identifier_path", &text(&input.identifier_path), "sub")?,
        name_path: path("name_path", &text(&input.name_path), "name")?,
        scopes: match text(&input.scopes) {
            s if s.is_empty() => "openid email profile".into(),
            s if s.split_whitespace().any(|x| x == "openid") => s,
            s => format!("openid {s}"),
        },
        allowed_users: text(&input.allowed_users),
    };
    let stored = Stored { config, client_secret_sealed: state.keys.seal(secret.as_bytes(), SEAL_CONTEXT)? };
    let json = serde_json::to_string(&stored)
        .map_err(|e| AppError::internal("OIDC settings do not serialise", &e))?;
    db::settings::set(&state.pool, CONFIG_KEY, &json).await?;
    tracing::info!(by = %admin.caller().user_id, "OIDC settings saved");
    Ok(())
}

pub async fn delete_config(admin: &AdminUser, state: &AppState) -> Result<(), AppError> {
    db::settings::delete(&state.pool, CONFIG_KEY).await?;
    tracing::info!(by = %admin.caller().user_id, "OIDC settings removed");
    Ok(())
}

/// Where the provider sends the browser back to.
pub fn redirect_uri(state: &AppState, flow: Flow) -> String {
    format!("{}/api/{}/oidc/callback", state.config.public_url.trim_end_matches('/'), flow.as_str())
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A sign-in just started: where to send the browser.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    /// The value for this browser's binding cookie ([`crate::ssr::http::OIDC_COOKIE`]); the
    /// callback is refused in any browser that does not send it back.
    pub browser: String,
}

/// How long a sign-in in flight lives, and its binding cookie with it.
pub const FLOW_LIFETIME_SECS: i64 = FLOW_SECS;

fn disabled() -> AppError {
    AppError::of(ErrorKind::OidcDisabled, "Single sign-on is not set up on this instance.")
}

pub async fn begin(state: &AppState, flow: Flow, remember: bool) -> Result<Started, AppError> {
    use sha2::{Digest, Sha256};
    let cfg = config(state).await?.ok_or_else(disabled)?;
    let csrf = random_hex(32);
    let nonce = random_hex(32);
    let browser = random_hex(32);
    let verifier = b64url(random_hex(32).as_bytes());
    let challenge = b64url(&Sha256::digest(verifier.as_bytes()));
    let now = state.now();
    db::oidc::insert_flow(
        &state.pool,
        &NewFlow {
            state_hash: &digest(&csrf),
            nonce: &nonce,
            verifier_sealed: &state.keys.seal(verifier.as_bytes(), "oidc-pkce")?,
            remember,
            kind: flow.as_str(),
            browser_hash: &digest(&browser),
            now,
            expires_at: now + FLOW_SECS,
        },
    )
    .await?;
    let mut url = url::Url::parse(&cfg.authorization_url)
        .map_err(|e| AppError::internal("the stored authorization URL does not parse", &e))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &cfg.client_id)
        .append_pair("redirect_uri", &redirect_uri(state, flow))
        .append_pair("scope", &cfg.scopes)
        .append_pair("state", &csrf)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(Started { url: url.into(), state: csrf, nonce, browser })
}

/// A failed sign-in, in words for the page it is sent back to. The cause is logged.
fn refused(why: impl std::fmt::Display, said: &str) -> AppError {
    tracing::warn!(reason = %why, "single sign-on refused");
    AppError::invalid(ErrorKind::SsoFailed, None, said.to_owned())
}

fn client() -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| AppError::internal("cannot build the HTTP client", &e))
}

async fn get_json(http: &reqwest::Client, url: &str, bearer: Option<&str>) -> Result<Value, AppError> {
    let mut req = http.get(url);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.map_err(|e| refused(e, "The identity provider did not answer."))?;
    if !res.status().is_success() {
        return Err(refused(
            format!("{url} answered {}", res.status()),
            "The identity provider refused the sign-in.",
        ));
    }
    res.json().await.map_err(|e| refused(e, "The identity provider answered something unreadable."))
}

/// Checks the ID token against the provider's keys and answers its claims.
async fn verify_id_token(
    http: &reqwest::Client,
    cfg: &OidcConfig,
    id_token: &str,
    nonce: &str,
) -> Result<Value, AppError> {
    use jsonwebtoken::{decode, decode_header, jwk::JwkSet, Algorithm, DecodingKey, Validation};
    let bad = |why: String| refused(why, "The identity provider's answer could not be verified.");
    let header = decode_header(id_token).map_err(|e| bad(e.to_string()))?;
    let asymmetric = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];
    if !asymmetric.contains(&header.alg) {
        return Err(bad(format!("ID token signed with {:?}", header.alg)));
    }
    let discovery =
        get_json(http, &format!("{}/.well-known/openid-configuration", cfg.issuer_url), None).await?;
    let announced = discovery["issuer"].as_str().unwrap_or("");
    if !same_issuer(announced, &cfg.issuer_url) {
        return Err(bad(format!("discovery names issuer {announced:?}, not the configured one")));
    }
    let jwks_uri = discovery["jwks_uri"].as_str().ok_or_else(|| bad("no jwks_uri in discovery".into()))?;
    let keys: JwkSet =
        serde_json::from_value(get_json(http, jwks_uri, None).await?).map_err(|e| bad(e.to_string()))?;
    let jwk = match &header.kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| bad("no published key matches the ID token".into()))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| bad(e.to_string()))?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[&cfg.client_id]);
    validation.set_issuer(&[&cfg.issuer_url, &format!("{}/", cfg.issuer_url)]);
    validation.leeway = 60;
    validation.validate_nbf = true;
    let claims = decode::<Value>(id_token, &key, &validation).map_err(|e| bad(e.to_string()))?.claims;
    let now = jsonwebtoken::get_current_timestamp() as i64;
    if claims["iat"].as_i64().is_none_or(|iat| iat > now + 60) {
        return Err(bad("ID token issued in the future or without iat".into()));
    }
    if claims["nonce"].as_str() != Some(nonce) {
        return Err(bad("nonce mismatch".into()));
    }
    Ok(claims)
}

/// Issuer identifiers compare exactly, apart from one trailing slash (the configured URL is
/// stored without it).
fn same_issuer(a: &str, b: &str) -> bool {
    !a.is_empty() && a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// The value at a dot path (`sub`, `profile.name`), as text.
pub fn claim_at(claims: &Value, path: &str) -> Option<String> {
    let v = path.split('.').try_fold(claims, |v, seg| v.get(seg))?;
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `allowed_users`: identifiers or `@domain` entries, comma-separated; empty allows everyone.
pub fn is_allowed(allowed: &str, identifier: &str, email: Option<&str>) -> bool {
    let entries: Vec<String> =
        allowed.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()).collect();
    if entries.is_empty() {
        return true;
    }
    let id = identifier.to_ascii_lowercase();
    let email = email.map(str::to_ascii_lowercase);
    entries.iter().any(|e| match e.strip_prefix('@') {
        Some(domain) => {
            email.as_deref().is_some_and(|m| m.rsplit_once('@').is_some_and(|(_, d)| d == domain))
        }
        None => *e == id || email.as_deref() == Some(e.as_str()),
    })
}

/// Who the provider says signed in, and whether the flow asked to be remembered.
pub struct Proven {
    pub user: db::users::UserRow,
    pub remember: bool,
}

/// What the provider sends the browser back with (the callback's query).
#[derive(Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// RFC 9207: the issuer that answered, checked when present.
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Finishes the provider's side at the callback: proves who signed in and answers their
/// local account (created at the first sign-in).
#[tracing::instrument(skip_all)]
pub async fn prove(
    state: &AppState,
    flow: Flow,
    callback: &Callback,
    browser: Option<&str>,
) -> Result<Proven, AppError> {
    if let Some(err) = callback.error_description.as_ref().or(callback.error.as_ref()) {
        tracing::info!(error = %err, "the identity provider ended the sign-in");
        return Err(AppError::invalid(
            ErrorKind::SsoFailed,
            None,
            "The identity provider did not sign you in.",
        ));
    }
    let code = callback.code.as_deref().unwrap_or("");
    let csrf = callback.state.as_deref().unwrap_or("");
    if code.is_empty() || csrf.is_empty() {
        return Err(refused("code or state missing", "The sign-in was not completed."));
    }
    let cfg = config(state).await?.ok_or_else(disabled)?;
    let now = state.now();
    let started = db::oidc::take_flow(&state.pool, &digest(csrf))
        .await?
        .filter(|f| f.kind == flow.as_str() && f.expires_at > now)
        .ok_or_else(|| {
            refused(
                "unknown, used or expired state",
                "This sign-in has expired or was already used. Start again.",
            )
        })?;
    // The flow belongs to the browser that started it: a victim's browser cannot be made to
    // finish a sign-in an attacker began (and land in the attacker's account).
    let same_browser = match (browser, started.browser_hash.as_deref()) {
        (Some(b), Some(h)) => bool::from(subtle::ConstantTimeEq::ct_eq(digest(b).as_bytes(), h.as_bytes())),
        _ => false,
    };
    if !same_browser {
        return Err(refused(
            "the callback came to a browser that did not start the sign-in",
            "This sign-in was started in another browser. Start it again here.",
        ));
    }
    if let Some(iss) = &callback.iss {
        if !same_issuer(iss, &cfg.issuer_url) {
            return Err(refused(
                format!("callback iss {iss} is not the configured issuer"),
                "The identity provider's answer could not be verified.",
            ));
        }
    }
    let verifier = String::from_utf8(state.keys.open(&started.verifier_sealed, "oidc-pkce")?)
        .map_err(|e| AppError::internal("a sealed PKCE verifier is not UTF-8", &e))?;
    let http = client()?;
    let redirect = redirect_uri(state, flow);
    let res = http
        .post(&cfg.token_url)
        .basic_auth(&cfg.client_id, Some(&cfg.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .map_err(|e| refused(e, "The identity provider did not answer."))?;
    if !res.status().is_success() {
        return Err(refused(
            format!("token endpoint answered {}", res.status()),
            "The identity provider refused the sign-in.",
        ));
    }
    let tokens: Value =
        res.json().await.map_err(|e| refused(e, "The identity provider answered something unreadable."))?;
    let id_token = tokens["id_token"]
        .as_str()
        .ok_or_else(|| refused("no id_token", "The identity provider sent no ID token."))?;
    let mut claims = verify_id_token(&http, &cfg, id_token, &started.nonce).await?;
    let userinfo_url = match &cfg.userinfo_url {
        Some(u) => Some(u.clone()),
        None => get_json(&http, &format!("{}/.well-known/openid-configuration", cfg.issuer_url), None)
            .await?
            .get("userinfo_endpoint")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    if let (Some(u), Some(access)) = (userinfo_url, tokens["access_token"].as_str()) {
        let info = get_json(&http, &u, Some(access)).await?;
        if info.get("sub").is_some() && info["sub"] != claims["sub"] {
            return Err(refused(
                "userinfo names another subject",
                "The identity provider's answer could not be verified.",
            ));
        }
        if let (Some(c), Value::Object(extra)) = (claims.as_object_mut(), info) {
            for (k, v) in extra {
                c.entry(k).or_insert(v);
            }
        }
    }
    let identifier = claim_at(&claims, &cfg.identifier_path).ok_or_else(|| {
        refused(
            format!("no claim at {}", cfg.identifier_path),
            "The identity provider did not say who you are.",
        )
    })?;
    // Only an address the provider says it verified counts (a missing or "true"-string flag
    // does not): `@domain` entries and email entries of the allow-list trust it.
    let email = claims["email"].as_str().filter(|_| claims["email_verified"] == Value::Bool(true));
    if !is_allowed(&cfg.allowed_users, &identifier, email) {
        return Err(AppError::of(ErrorKind::SsoNotAllowed, "This account is not allowed to sign in here."));
    }
    let display = claim_at(&claims, &cfg.name_path);
    let user = account_for(state, &identifier, &claims, display.as_deref()).await?;
    Ok(Proven { user, remember: started.remember })
}

/// A username from the provider's claims: letters, digits and `. _ - @`, unique here.
async fn free_username(state: &AppState, claims: &Value, identifier: &str) -> Result<Username, AppError> {
    let email_local = claims["email"].as_str().and_then(|e| e.split('@').next()).map(str::to_owned);
    let candidates = [
        claim_at(claims, "preferred_username"),
        email_local,
        claim_at(claims, "name"),
        Some(identifier.to_owned()),
    ];
    let base = candidates
        .into_iter()
        .flatten()
        .map(|c| {
            let cleaned: String = c
                .chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-' | '@') {
                        ch.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect();
            cleaned
                .trim_start_matches(|ch: char| !ch.is_ascii_alphanumeric())
                .chars()
                .take(56)
                .collect::<String>()
        })
        .find(|c| c.len() >= 3)
        .unwrap_or_else(|| "sso-user".into());
    for n in 1..100 {
        let name = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let Ok(u) = Username::parse(&name) else { continue };
        if db::users::find_by_key(&state.pool, &u.key()).await?.is_none() {
            return Ok(u);
        }
    }
    Ok(Username::parse(&format!("sso-{}", &random_hex(4)))?)
}

async fn account_for(
    state: &AppState,
    identifier: &str,
    claims: &Value,
    display: Option<&str>,
) -> Result<db::users::UserRow, AppError> {
    if let Some(id) = db::oidc::find_user_by_subject(&state.pool, identifier).await? {
        return db::users::find_by_id(&state.pool, &id)
            .await?
            .ok_or_else(|| AppError::bug("a linked single sign-on account vanished"));
    }
    if !db::users::any_exist(&state.pool).await? {
        return Err(AppError::of(
            ErrorKind::SetupRequired,
            "Set up the instance's first administrator before single sign-on.",
        ));
    }
    let username = free_username(state, claims, identifier).await?;
    let display = DisplayName::parse(display.unwrap_or(""), &username)
        .or_else(|_| DisplayName::parse("", &username))?;
    let id = new_id();
    let row = NewUser {
        id: &id,
        username: username.as_ref(),
        username_key: &username.key(),
        display_name: display.as_ref(),
        password_hash: None,
        ldap_dn: None,
        oidc_subject: Some(identifier),
        now: state.now(),
    };
    match db::users::insert(&state.pool, &row, Admission::AdminIfFirst).await {
        Ok(_) => {}
        // Two first sign-ins at once: the other one made the account; use it.
        Err(e) if db::is_unique_violation(&e) => {
            return match db::oidc::find_user_by_subject(&state.pool, identifier).await? {
                Some(id) => db::users::find_by_id(&state.pool, &id)
                    .await?
                    .ok_or_else(|| AppError::bug("a linked single sign-on account vanished")),
                None => Err(refused(e, "Your account could not be created just now. Try again.")),
            };
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(username = %username.as_ref(), "account created at first single sign-on");
    db::users::find_by_id(&state.pool, &id)
        .await?
        .ok_or_else(|| AppError::bug("an account just created is missing"))
}

/// `POST /users/link-oidc-to-password`: an SSO-only account merges into a password account,
/// which from then on signs in both ways. The SSO-only account is deleted.
pub async fn link_to_password(
    admin: &AdminUser,
    state: &AppState,
    oidc_user_id: &str,
    target_username: &str,
) -> Result<(), AppError> {
    admin.caller().require_recent_authentication(state.now())?;
    let oidc_user = db::users::find_by_id(&state.pool, oidc_user_id.trim())
        .await?
        .ok_or_else(|| AppError::of(ErrorKind::UserNotFound, "No such SSO user."))?;
    let target = db::users::find_by_key(&state.pool, &target_username.trim().to_ascii_lowercase())
        .await?
        .ok_or_else(|| AppError::of(ErrorKind::UserNotFound, "No such password account."))?;
    let subject = db::oidc::subject_of(&state.pool, &oidc_user.id).await?;
    let Some(subject) = subject.filter(|_| oidc_user.password_hash.is_none()) else {
        return Err(AppError::invalid(
            ErrorKind::NotOidcOnly,
            Some("oidcUserId"),
            "That account is not an SSO-only account.",
        ));
    };
    if target.password_hash.is_none() || target.id == oidc_user.id {
        return Err(AppError::invalid(
            ErrorKind::NotPasswordAccount,
            Some("targetUsername"),
            "The target must be an account with a password.",
        ));
    }
    if db::oidc::subject_of(&state.pool, &target.id).await?.is_some() {
        return Err(AppError::invalid(
            ErrorKind::AlreadyLinked,
            Some("targetUsername"),
            "The target is already linked to single sign-on.",
        ));
    }
    if oidc_user.is_admin && !target.is_admin {
        return Err(AppError::invalid(
            ErrorKind::WouldDropAdmin,
            Some("oidcUserId"),
            "Make the target an admin first: the SSO account is one.",
        ));
    }
    db::oidc::merge_into(&state.pool, &oidc_user.id, &target.id, &subject).await?;
    tracing::info!(by = %admin.caller().user_id, target = %target.id, "SSO account linked to a password account");
    Ok(())
}

/// `POST /users/unlink-oidc-from-password`: a dual account keeps only its password.
pub async fn unlink_from_password(
    admin: &AdminUser,
    state: &AppState,
    user_id: &str,
) -> Result<(), AppError> {
    admin.caller().require_recent_authentication(state.now())?;
    let user = db::users::find_by_id(&state.pool, user_id.trim())
        .await?
        .ok_or_else(|| AppError::of(ErrorKind::UserNotFound, "No such user."))?;
    if user.password_hash.is_none() || db::oidc::subject_of(&state.pool, &user.id).await?.is_none() {
        return Err(AppError::invalid(
            ErrorKind::NotDual,
            Some("userId"),
            "That account does not sign in both ways.",
        ));
    }
    db::oidc::clear_subject(&state.pool, &user.id).await?;
    tracing::info!(by = %admin.caller().user_id, user = %user.id, "SSO unlinked from a password account");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_are_found_by_dot_path() {
        let c = json!({"sub": "abc", "profile": {"name": "Ann", "id": 42}, "empty": " "});
        assert_eq!(claim_at(&c, "sub").as_deref(), Some("abc"));
        assert_eq!(claim_at(&c, "profile.name").as_deref(), Some("Ann"));
        assert_eq!(claim_at(&c, "profile.id").as_deref(), Some("42"));
        assert_eq!(claim_at(&c, "empty"), None);
        assert_eq!(claim_at(&c, "profile.nope"), None);
    }

    #[test]
    fn allowed_users_match_identifiers_and_email_domains() {
        assert!(is_allowed("", "x", None));
        assert!(is_allowed("alice, @example.org", "sub-1", Some("bob@Example.org")));
        assert!(is_allowed("alice, @example.org", "Alice", None));
        assert!(!is_allowed("alice, @example.org", "sub-1", Some("bob@example.org.evil.test")));
        assert!(!is_allowed("@example.org", "sub-1", None));
    }
}
