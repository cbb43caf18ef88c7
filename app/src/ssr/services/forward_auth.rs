//! Forward-auth: a reverse proxy (nginx `auth_request`, Caddy `forward_auth`, Traefik
//! `forwardAuth`) asks, for each request to an app behind it, whether the caller may pass.
//! The caller is checked exactly as every API request is ([`auth::authenticate`]); this module
//! only reads what the proxy says about the original request and where to send a browser
//! that must sign in first.
use super::access_rules::{self, Need};
use super::audit::{self, Event};
use super::identity::{Caller, Gate};
use super::{auth, passkeys, terminals, totp};
use crate::audit::EventType;
use crate::domain::ContainerId;
use crate::error::{AppError, ErrorKind};
use crate::ssr::{db, AppState};

/// The request the proxy is asking about, as the proxy described it.
#[derive(Debug, Clone, Default)]
pub struct Original {
    /// `GET`, `POST`… (`GET` when the proxy did not say).
    pub method: String,
    /// The absolute URL, when the proxy said and is trusted to.
    pub url: Option<String>,
    /// A browser loading a page (`Accept` has `text/html`, not an XHR): the only forward-auth
    /// requests that count as activity for the idle lock.
    pub page_load: bool,
}

/// What the proxy is told.
pub enum Verdict {
    /// Let it through, naming the user to the app (nobody for a `bypass` rule).
    Allow(Option<Caller>),
    /// Nobody is signed in, or the session's screen is locked: a browser goes to `location`
    /// (the sign-in page, or the lock screen), which sends it back to the original URL after.
    SignIn { location: String },
    /// The rule asks for a fresh second factor (`two_factor`, `step_up`): a browser goes to the
    /// step-up page at `location`, which sends it back after the code.
    StepUp { location: String },
    /// Refused (`403`): a `deny` rule, no rule for this signed-in caller, an API key where a
    /// session's second factor is asked for.
    Forbidden,
}

/// The groups a proxy passes on as `Remote-Groups`: every user is in `users`, admins also in
/// `admins`.
pub fn groups(caller: &Caller) -> &'static str {
    if caller.is_admin {
        "admins,users"
    } else {
        "users"
    }
}

/// Where a browser may be sent back to after signing in: an `https` (or the public URL's
/// scheme) URL on this instance's own host and port or, with `PORTCULLIS_COOKIE_DOMAIN`, on a
/// host under that domain (which the session cookie reaches); never another site (no open
/// redirect). Answers the URL to use.
pub fn safe_return(state: &AppState, rd: &str) -> Option<String> {
    let public = url::Url::parse(&state.config.public_url).ok()?;
    // Only a plain URL: nothing a browser would read differently from this check.
    access_rules::plain_url(rd.trim())?;
    let target = url::Url::parse(rd.trim()).ok()?;
    let scheme_ok = target.scheme() == "https" || target.scheme() == public.scheme();
    let host = target.host_str()?;
    let this_host =
        Some(host) == public.host_str() && target.port_or_known_default() == public.port_or_known_default();
    let in_domain = state.config.cookie_domain.as_deref().is_some_and(|d| under_domain(host, d));
    (scheme_ok && (this_host || in_domain) && target.username().is_empty() && target.password().is_none())
        .then(|| target.to_string())
}

/// Whether `host` is `domain` or a name under it (`term.example.com` under `example.com`, not
/// `notexample.com` nor `example.com.evil.net`). Both as the URL parser wrote them (lowercase).
pub fn under_domain(host: &str, domain: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
}

/// One of our pages (`/login`, `/unlock`), with `rd` when the original URL is one a browser
/// may return to.
pub fn page_location(state: &AppState, page: &str, original: &Original) -> String {
    let base = state.config.public_url.trim_end_matches('/');
    match original.url.as_deref().and_then(|u| safe_return(state, u)) {
        Some(rd) => {
            let sep = if page.contains('?') { '&' } else { '?' };
            format!("{base}{page}{sep}rd={}", crate::api::encode_query(&rd))
        }
        None => format!("{base}{page}"),
    }
}

/// `path` with `?rd=` when `rd` is a URL a browser may return to (the next page of a sign-in).
pub fn with_return(state: &AppState, path: &str, rd: Option<&str>) -> String {
    match rd.and_then(|r| safe_return(state, r)) {
        Some(rd) => format!("{path}?rd={}", crate::api::encode_query(&rd)),
        None => path.to_owned(),
    }
}

/// The verdict for one request. Nobody signed in goes to the sign-in page; a session whose
/// screen is locked (by hand or idle) goes to the lock screen, `/unlock`. Then the access
/// rules ([`access_rules`]), when there are any, say what the caller needs. A database that
/// does not answer is an error (`503`), never a pass.
pub async fn check(state: &AppState, token: Option<&str>, original: &Original) -> Result<Verdict, AppError> {
    let rules = access_rules::in_force(state).await?;
    // Where the request went, as the rules match it: with rules, a request the proxy did not
    // describe matches nothing (refused).
    let target = if rules.is_empty() { None } else { original.url.as_deref().and_then(access_rules::target) };
    if !rules.is_empty() && target.is_none() {
        return Ok(Verdict::Forbidden);
    }
    let decide = |caller| match &target {
        Some((host, path)) => access_rules::decide(&rules, host, path, caller),
        None => Need::OneFactor,
    };
    // Before asking who is calling: a `bypass` needs nobody, a `deny` for everyone refuses all.
    match decide(None) {
        Need::Nothing => return Ok(Verdict::Allow(None)),
        Need::Deny => return Ok(Verdict::Forbidden),
        _ => {}
    }
    let gate = if original.page_load { Gate::Unlocked } else { Gate::UnlockedQuiet };
    let caller = match auth::authenticate(state, token, gate).await {
        Ok(caller) => caller,
        Err(e) if e.is(ErrorKind::AccountLocked) => {
            return Ok(Verdict::SignIn { location: page_location(state, "/unlock", original) })
        }
        Err(e) if e.is(ErrorKind::Unauthenticated) => {
            return Ok(Verdict::SignIn { location: page_location(state, "/login", original) })
        }
        Err(e) => return Err(e),
    };
    let step_up = |terminal: Option<&str>| {
        let page = match terminal {
            Some(t) => format!("/step-up?terminal={}", crate::api::encode_query(t)),
            None => "/step-up".to_owned(),
        };
        Verdict::StepUp { location: page_location(state, &page, original) }
    };
    Ok(match decide(Some(&caller)) {
        Need::Nothing | Need::OneFactor => Verdict::Allow(Some(caller)),
        Need::Deny | Need::Identify => Verdict::Forbidden,
        // A second factor belongs to a session: an API key has none to prove.
        Need::TwoFactor | Need::StepUp(_) if caller.api_key_id.is_some() => Verdict::Forbidden,
        Need::TwoFactor if caller.second_factor_at.is_some() => Verdict::Allow(Some(caller)),
        Need::TwoFactor => step_up(None),
        Need::StepUp(id) => {
            let Ok(terminal) = ContainerId::parse(&id) else { return Ok(Verdict::Forbidden) };
            let granted = db::terminals::has_live_grant(
                &state.pool,
                &caller.session_id,
                terminal.as_ref(),
                state.now(),
            )
            .await?;
            if granted {
                Verdict::Allow(Some(caller))
            } else {
                step_up(Some(terminal.as_ref()))
            }
        }
    })
}

/// What the step-up page needs to know before it asks for a proof.
pub struct StepUpInfo {
    /// The caller can give a code (two-factor sign-in is on).
    pub can_confirm: bool,
    /// The caller can use a passkey instead (this instance offers them and the caller has one).
    pub has_passkey: bool,
}

pub async fn step_up_info(state: &AppState, caller: &Caller) -> Result<StepUpInfo, AppError> {
    Ok(StepUpInfo {
        can_confirm: totp::is_enabled(state, &caller.user_id).await?,
        has_passkey: passkeys::offered_to(state, &caller.user_id).await?,
    })
}

/// Starts the passkey ceremony of the step-up page, bound to this session (and `terminal`).
pub async fn step_up_passkey_options(
    state: &AppState,
    caller: &Caller,
    terminal: Option<&ContainerId>,
) -> Result<passkeys::Ceremony, AppError> {
    if let Some(t) = terminal {
        return terminals::passkey_options(state, caller, t).await;
    }
    passkeys::begin_for(state, &caller.user_id, passkeys::Use::StepUp(caller.session()?)).await
}

/// The step-up page's answer: a code from the authenticator app or a passkey opens
/// `terminal` for this session for 15 minutes (the same grant as `mfa-verify`), or, without a
/// terminal, marks this session as having proved a second factor (`two_factor` rules).
pub async fn step_up(
    state: &AppState,
    caller: &Caller,
    proof: terminals::Proof,
    terminal: Option<&ContainerId>,
) -> Result<(), AppError> {
    let session_id = caller.session()?;
    if let Some(t) = terminal {
        return terminals::verify(state, caller, t, proof).await.map(|_| ());
    }
    let method = proof.method();
    let event =
        || Event::new(EventType::StepUp).by(caller).target("session", session_id).detail("method", method);
    let proven = match proof {
        terminals::Proof::Code(code) => totp::prove_code(state, &caller.user_id, &code).await,
        terminals::Proof::Passkey(answer) => {
            passkeys::verify_for(state, &caller.user_id, passkeys::Use::StepUp(session_id), answer)
                .await
                .map(|_| ())
        }
    };
    audit::on_failure(state, proven, |e| event().failed(e)).await?;
    let mut change = audit::Change::begin(state).await?;
    db::sessions::set_second_factor_at(change.tx(), session_id, state.now()).await?;
    change.record(event()).await?;
    change.commit().await
}
