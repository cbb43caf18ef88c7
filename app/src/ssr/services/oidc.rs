//! Single sign-on with an OpenID Connect provider (authorization code flow with PKCE).
//!
//! Both documents' flows run this code: users-api.txt's (`/users/oidc/authorize` answers
//! `{auth_url, state, nonce}`, its callback redirects to `/`) and auth-api.txt's
//! (`/auth/oidc/authorize` answers `{url}`, its callback redirects to `/?sso=success`).
//!
//! The protocol is the `openidconnect` crate's: discovery (whose issuer must equal the
//! configured one exactly), the provider's keys, the code exchange with PKCE and the ID-token
//! verifier. Ours on top: the `state` names a flow this instance started (stored in the
//! database, so any node can finish it; it works once and for 10 minutes) in the browser that
//! started it; the RFC 9207 `iss` of the callback, when sent, is the configured issuer; only
//! asymmetric signatures; `iat` not in the future and `nbf` passed; userinfo names the same
//! subject. The person is then found by (issuer, the claim at `identifier_path`, `sub` by
//! default): the same identifier from another provider is another person.
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
    oidc::{NewFlow, ProviderIdentity},
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
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = OidcConfigInput)]
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

/// A URL as given (the issuer is compared exactly, trailing slash included).
fn exact_url(field: &'static str, raw: &str) -> Result<String, AppError> {
    let parsed = url::Url::parse(raw).map_err(|_| {
        AppError::invalid(ErrorKind::InvalidRequest, Some(field), "Give a full http(s):// URL.")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(AppError::invalid(ErrorKind::InvalidRequest, Some(field), "Give a full http(s):// URL."));
    }
    Ok(raw.to_owned())
}

/// An endpoint URL, stored without a trailing slash.
fn http_url(field: &'static str, raw: &str) -> Result<String, AppError> {
    exact_url(field, raw).map(|u| u.trim_end_matches('/').to_owned())
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
        issuer_url: exact_url("issuer_url", &issuer)?,
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
    let mut change = super::audit::Change::begin(state).await?;
    db::settings::set(change.tx(), CONFIG_KEY, &json).await?;
    change.record(config_changed(admin, "saved")).await?;
    change.commit().await?;
    tracing::info!(by = %admin.caller().user_id, "OIDC settings saved");
    Ok(())
}

pub async fn delete_config(admin: &AdminUser, state: &AppState) -> Result<(), AppError> {
    let mut change = super::audit::Change::begin(state).await?;
    db::settings::delete(change.tx(), CONFIG_KEY).await?;
    change.record(config_changed(admin, "removed")).await?;
    change.commit().await?;
    tracing::info!(by = %admin.caller().user_id, "OIDC settings removed");
    Ok(())
}

/// The settings' change as recorded: what was done, never a secret or the settings themselves.
fn config_changed(admin: &AdminUser, action: &'static str) -> super::audit::Event {
    super::audit::Event::new(crate::audit::EventType::OidcConfigChanged)
        .by_admin(admin)
        .target("setting", CONFIG_KEY)
        .detail("action", action)
}

/// Where the provider sends the browser back to.
pub fn redirect_uri(state: &AppState, flow: Flow) -> String {
    format!("{}/api/{}/oidc/callback", state.config.public_url.trim_end_matches('/'), flow.as_str())
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

/// Starts a sign-in at the provider. `rd` is where the browser goes back to after it (the
/// sign-in page's, from forward-auth), kept only when it is a URL a browser may return to.
pub async fn begin(
    state: &AppState,
    flow: Flow,
    remember: bool,
    rd: Option<&str>,
) -> Result<Started, AppError> {
    use openidconnect::{AuthenticationFlow, CsrfToken, Nonce, PkceCodeChallenge, Scope};
    let cfg = config(state).await?.ok_or_else(disabled)?;
    // Nothing is fetched to start: the authorization URL is the configured one.
    let client = Client::new(
        openidconnect::ClientId::new(cfg.client_id.clone()),
        issuer_url(&cfg)?,
        openidconnect::JsonWebKeySet::default(),
    )
    .set_auth_uri(
        openidconnect::AuthUrl::new(cfg.authorization_url.clone())
            .map_err(|e| AppError::internal("the stored authorization URL does not parse", &e))?,
    )
    .set_redirect_uri(callback_url(state, flow)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let scopes = cfg.scopes.split_whitespace().filter(|s| *s != "openid").map(|s| Scope::new(s.to_owned()));
    let (url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<openidconnect::core::CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scopes(scopes)
        .set_pkce_challenge(challenge)
        .url();
    let browser = random_hex(32);
    let now = state.now();
    db::oidc::insert_flow(
        &state.pool,
        &NewFlow {
            state_hash: &digest(csrf.secret()),
            nonce: nonce.secret(),
            verifier_sealed: &state.keys.seal(verifier.secret().as_bytes(), "oidc-pkce")?,
            remember,
            kind: flow.as_str(),
            browser_hash: &digest(&browser),
            return_to: rd.and_then(|r| super::forward_auth::safe_return(state, r)).as_deref(),
            now,
            expires_at: now + FLOW_SECS,
        },
    )
    .await?;
    Ok(Started { url: url.into(), state: csrf.secret().clone(), nonce: nonce.secret().clone(), browser })
}

/// A failed sign-in, in words for the page it is sent back to. The cause is logged.
fn refused(why: impl std::fmt::Display, said: &str) -> AppError {
    tracing::warn!(reason = %why, "single sign-on refused");
    AppError::invalid(ErrorKind::SsoFailed, None, said.to_owned())
}

fn http_client() -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        // Following redirects would let a provider's answer point this server anywhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| AppError::internal("cannot build the HTTP client", &e))
}

/// Every claim the provider sends beyond the standard ones, kept as JSON so `identifier_path`
/// and `name_path` can point anywhere (and `nbf` can be checked).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
struct OtherClaims(serde_json::Map<String, Value>);

impl openidconnect::AdditionalClaims for OtherClaims {}

type Tokens = openidconnect::StandardTokenResponse<
    openidconnect::IdTokenFields<
        OtherClaims,
        openidconnect::EmptyExtraTokenFields,
        openidconnect::core::CoreGenderClaim,
        openidconnect::core::CoreJweContentEncryptionAlgorithm,
        openidconnect::core::CoreJwsSigningAlgorithm,
    >,
    openidconnect::core::CoreTokenType,
>;

/// The crate's client with our claims; the type parameters say which endpoints are known.
type Client<
    Auth = openidconnect::EndpointNotSet,
    Token = openidconnect::EndpointNotSet,
    Info = openidconnect::EndpointNotSet,
> = openidconnect::Client<
    OtherClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    Tokens,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    Auth,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    Token,
    Info,
>;

fn issuer_url(cfg: &OidcConfig) -> Result<openidconnect::IssuerUrl, AppError> {
    openidconnect::IssuerUrl::new(cfg.issuer_url.clone())
        .map_err(|e| AppError::internal("the stored issuer URL does not parse", &e))
}

fn callback_url(state: &AppState, flow: Flow) -> Result<openidconnect::RedirectUrl, AppError> {
    openidconnect::RedirectUrl::new(redirect_uri(state, flow))
        .map_err(|e| AppError::internal("the public URL does not make a callback URL", &e))
}

/// The signatures an ID token may carry: the provider's published keys only (a token signed
/// with the client secret could be forged by anyone holding the secret, and `none` never).
fn asymmetric() -> Vec<openidconnect::core::CoreJwsSigningAlgorithm> {
    use openidconnect::core::CoreJwsSigningAlgorithm as A;
    vec![
        A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPkcs1V15Sha384,
        A::RsaSsaPkcs1V15Sha512,
        A::RsaSsaPssSha256,
        A::RsaSsaPssSha384,
        A::RsaSsaPssSha512,
        A::EcdsaP256Sha256,
        A::EcdsaP384Sha384,
        A::EdDsa,
    ]
}

/// How far the provider's clock may run ahead of ours.
const CLOCK_SKEW_SECS: i64 = 60;

/// Exchanges the code, verifies the ID token and reads userinfo: answers the issuer and the
/// claims (the ID token's, completed by userinfo's).
async fn exchange(
    state: &AppState,
    cfg: &OidcConfig,
    flow: Flow,
    code: &str,
    verifier: String,
    nonce: &str,
) -> Result<(String, Value), AppError> {
    use openidconnect::{
        core::CoreProviderMetadata, AccessTokenHash, AuthUrl, AuthorizationCode, ClientId, ClientSecret,
        Nonce, OAuth2TokenResponse, PkceCodeVerifier, TokenResponse, TokenUrl, UserInfoUrl,
    };
    let unverified = |why: String| refused(why, "The identity provider's answer could not be verified.");
    let http = http_client()?;
    // Discovery refuses a document whose issuer is not exactly the configured one.
    let mut metadata = CoreProviderMetadata::discover_async(issuer_url(cfg)?, &http)
        .await
        .map_err(|e| refused(error_chain(&e), "The identity provider did not answer."))?;
    let bad_url =
        |e: openidconnect::url::ParseError| AppError::internal("a stored OIDC URL does not parse", &e);
    // The endpoints an admin configured win over the announced ones.
    metadata = metadata
        .set_authorization_endpoint(AuthUrl::new(cfg.authorization_url.clone()).map_err(bad_url)?)
        .set_token_endpoint(Some(TokenUrl::new(cfg.token_url.clone()).map_err(bad_url)?));
    if let Some(u) = &cfg.userinfo_url {
        metadata = metadata.set_userinfo_endpoint(Some(UserInfoUrl::new(u.clone()).map_err(bad_url)?));
    }
    let issuer = metadata.issuer().to_string();
    let client: Client<
        openidconnect::EndpointSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > = Client::from_provider_metadata(
        metadata,
        ClientId::new(cfg.client_id.clone()),
        Some(ClientSecret::new(cfg.client_secret.clone())),
    )
    .set_redirect_uri(callback_url(state, flow)?);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| AppError::internal("the token URL is not set", &e))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&http)
        .await
        .map_err(|e| refused(error_chain(&e), "The identity provider refused the sign-in."))?;
    let id_token =
        tokens.id_token().ok_or_else(|| refused("no id_token", "The identity provider sent no ID token."))?;
    let now = state.now();
    let id_verifier =
        client.id_token_verifier().set_allowed_algs(asymmetric()).set_issue_time_verifier_fn(move |iat| {
            if iat.timestamp() > now + CLOCK_SKEW_SECS {
                Err(format!("issued in the future ({iat})"))
            } else {
                Ok(())
            }
        });
    let expected = Nonce::new(nonce.to_owned());
    let claims = id_token.claims(&id_verifier, &expected).map_err(|e| unverified(error_chain(&e)))?;
    if let Some(nbf) = claims.additional_claims().0.get("nbf") {
        if nbf.as_i64().is_none_or(|nbf| nbf > now + CLOCK_SKEW_SECS) {
            return Err(unverified(format!("ID token not valid yet (nbf {nbf})")));
        }
    }
    // The access token is the one this ID token was issued with.
    if let Some(expected_hash) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|e| unverified(error_chain(&e)))?;
        let key = id_token.signing_key(&id_verifier).map_err(|e| unverified(error_chain(&e)))?;
        let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
            .map_err(|e| unverified(error_chain(&e)))?;
        if actual != *expected_hash {
            return Err(unverified("at_hash does not match the access token".into()));
        }
    }
    let subject = claims.subject().clone();
    let mut all = serde_json::to_value(claims)
        .map_err(|e| AppError::internal("verified ID-token claims do not serialise", &e))?;
    // Userinfo, when the provider has it, must be about the same subject; its claims only fill
    // in what the ID token did not say.
    if let Ok(request) = client.user_info(tokens.access_token().clone(), Some(subject)) {
        let info: openidconnect::UserInfoClaims<OtherClaims, openidconnect::core::CoreGenderClaim> =
            request.request_async(&http).await.map_err(|e| unverified(error_chain(&e)))?;
        let info = serde_json::to_value(info)
            .map_err(|e| AppError::internal("userinfo claims do not serialise", &e))?;
        if let (Some(c), Value::Object(extra)) = (all.as_object_mut(), info) {
            for (k, v) in extra {
                c.entry(k).or_insert(v);
            }
        }
    }
    Ok((issuer, all))
}

/// An error with its causes, for the log line of a refused sign-in.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// Issuer identifiers compare exactly (RFC 9207 and OpenID Connect Discovery).
fn same_issuer(a: &str, b: &str) -> bool {
    !a.is_empty() && a == b
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
    /// Where the browser goes back to afterwards (checked when the flow started).
    pub return_to: Option<String>,
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
    let (issuer, claims) = exchange(state, &cfg, flow, code, verifier, &started.nonce).await?;
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
    let who = ProviderIdentity { issuer, subject: identifier };
    let user = account_for(state, &who, &claims, display.as_deref()).await?;
    Ok(Proven { user, remember: started.remember, return_to: started.return_to })
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
    who: &ProviderIdentity,
    claims: &Value,
    display: Option<&str>,
) -> Result<db::users::UserRow, AppError> {
    let linked = |id: String| async move {
        db::users::find_by_id(&state.pool, &id)
            .await?
            .ok_or_else(|| AppError::bug("a linked single sign-on account vanished"))
    };
    if let Some(id) = db::oidc::find_user(&state.pool, who).await? {
        return linked(id).await;
    }
    if !db::users::any_exist(&state.pool).await? {
        return Err(AppError::of(
            ErrorKind::SetupRequired,
            "Set up the instance's first administrator before single sign-on.",
        ));
    }
    let username = free_username(state, claims, &who.subject).await?;
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
        oidc: Some(who),
        now: state.now(),
    };
    let mut change = super::audit::Change::begin(state).await?;
    match db::users::insert(change.tx(), &row, Admission::AdminIfFirst).await {
        Ok(admin) => {
            let event = super::audit::registered(&id, username.as_ref(), "sso", admin.unwrap_or(false));
            change.record(event).await?;
            change.commit().await?;
        }
        // Two first sign-ins at once: the other one made the account; use it.
        Err(e) if db::is_unique_violation(&e) => {
            drop(change);
            return match db::oidc::find_user(&state.pool, who).await? {
                Some(id) => linked(id).await,
                None => Err(refused(e, "Your account could not be created just now. Try again.")),
            };
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(username = %username.as_ref(), "account created at first single sign-on");
    linked(id).await
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
    let identity = db::oidc::identity_of(&state.pool, &oidc_user.id).await?;
    let Some(identity) = identity.filter(|_| oidc_user.password_hash.is_none()) else {
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
    if db::oidc::is_linked(&state.pool, &target.id).await? {
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
    let mut change = super::audit::Change::begin(state).await?;
    if !db::oidc::merge_into(change.tx(), &oidc_user.id, &target.id, &identity).await? {
        // Something changed since the checks above: the target was linked meanwhile, or an
        // admin SSO account's target lost the admin role.
        return Err(if oidc_user.is_admin {
            AppError::invalid(
                ErrorKind::WouldDropAdmin,
                Some("oidcUserId"),
                "Make the target an admin first: the SSO account is one.",
            )
        } else {
            AppError::invalid(
                ErrorKind::AlreadyLinked,
                Some("targetUsername"),
                "The target is already linked to single sign-on.",
            )
        });
    }
    let event = super::audit::Event::new(crate::audit::EventType::SsoLinked)
        .by_admin(admin)
        .about(&target.id, &target.username)
        .target("user", &target.id)
        .detail("merged_account", oidc_user.id.as_str());
    change.record(event).await?;
    change.commit().await?;
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
    if user.password_hash.is_none() || !db::oidc::is_linked(&state.pool, &user.id).await? {
        return Err(AppError::invalid(
            ErrorKind::NotDual,
            Some("userId"),
            "That account does not sign in both ways.",
        ));
    }
    let mut change = super::audit::Change::begin(state).await?;
    db::oidc::clear_subject(change.tx(), &user.id).await?;
    change
        .record(
            super::audit::Event::new(crate::audit::EventType::SsoUnlinked)
                .by_admin(admin)
                .about(&user.id, &user.username)
                .target("user", &user.id),
        )
        .await?;
    change.commit().await?;
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
