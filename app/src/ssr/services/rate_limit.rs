//! Rate limits counted in the database, so they survive restarts and hold across nodes.
//!
//! An attempt is **reserved before it is judged**: one statement counts the window and, only
//! if there is room, records the attempt. N parallel requests therefore get at most `max`
//! slots between them, however slow the check that follows (an argon2 verify, a directory
//! round trip). A success may give its own slot back ([`refund`]); it never clears the
//! bucket, so a right answer inside a burst does not reopen it for the wrong ones.
use super::audit::{self, Event};
use crate::audit::EventType;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db;
use crate::ssr::AppState;
use std::net::IpAddr;

/// At most `max` counted attempts per `window` seconds in `bucket`.
pub struct Limit {
    /// What the limit is for (`login-ip`, `passcode`…): the metrics' label.
    pub kind: &'static str,
    pub bucket: String,
    pub max: i64,
    pub window: i64,
    /// What a full bucket answers: `429 rate_limited` unless the document names another code.
    pub refusal: ErrorKind,
}

/// The network a client address stands for in per-IP limits: the address itself for IPv4,
/// its /64 for IPv6 (one subscriber usually holds a whole /64).
pub fn client_network(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(|a| a.to_canonical()) {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.to_owned(),
    }
}

impl Limit {
    pub fn new(kind: &'static str, subject: &str, max: i64, window: i64) -> Self {
        Self { kind, bucket: format!("{kind}:{subject}"), max, window, refusal: ErrorKind::RateLimited }
    }

    pub fn refusing_with(self, refusal: ErrorKind) -> Self {
        Self { refusal, ..self }
    }

    /// `/auth/login` and `/users/login`: 30 attempts per 15 minutes per client network.
    pub fn login_ip(ip: &str) -> Self {
        Self::new("login-ip", &client_network(ip), 30, 15 * 60)
    }

    /// Password attempts on one account from one client network: 10 per 15 minutes. Keyed by
    /// network too, so a stranger elsewhere cannot keep the owner out with wrong guesses.
    pub fn login_user(username_key: &str, ip: &str) -> Self {
        Self::new("login-user", &format!("{username_key}@{}", client_network(ip)), 10, 15 * 60)
    }

    /// Password attempts on one account from anywhere: 100 per 15 minutes (NIST SP 800-63B's
    /// ceiling on consecutive failures), the bound a guesser with many networks meets.
    pub fn login_account(username_key: &str) -> Self {
        Self::new("login-account", username_key, 100, 15 * 60)
    }
}

/// One reserved attempt.
#[must_use = "a reservation is refunded on success or kept as a counted attempt"]
pub struct Attempt {
    id: i64,
}

fn since(limit: &Limit, now: i64) -> i64 {
    now - limit.window + 1
}

async fn refusal(state: &AppState, limit: &Limit, now: i64) -> Result<AppError, AppError> {
    let (_, oldest) = db::rate_limits::window(&state.pool, &limit.bucket, since(limit, now)).await?;
    let remaining = oldest.map_or(limit.window, |t| t + limit.window - now).max(1);
    crate::ssr::metrics::limit_refused(limit.kind);
    let refusal = AppError::rate_limited(limit.refusal, remaining as u64);
    let event = Event::new(EventType::LimitReached).detail("limit", limit.kind).refused(&refusal);
    audit::record(state, event).await;
    Ok(refusal)
}

/// Reserves one attempt, atomically, or refuses with `429` when the bucket is full.
pub async fn reserve(state: &AppState, limit: &Limit) -> Result<Attempt, AppError> {
    let [attempt] = reserve_all(state, [limit]).await?;
    Ok(attempt)
}

/// Reserves one attempt in each limit, all or none, in one statement; a full bucket refuses
/// with the first full limit's `429` and reserves nothing. The limits' buckets must differ.
pub async fn reserve_all<const N: usize>(
    state: &AppState,
    limits: [&Limit; N],
) -> Result<[Attempt; N], AppError> {
    let now = state.now();
    let windows =
        limits.map(|l| db::rate_limits::Window { bucket: &l.bucket, since: since(l, now), max: l.max });
    // A refusal names the bucket that was full; when none is by the time it is looked for (its
    // hits were refunded in between), the reservation is tried again.
    for _ in 0..3 {
        if let Some(ids) = db::rate_limits::reserve(&state.pool, now, &windows).await? {
            let ids =
                <[i64; N]>::try_from(ids).map_err(|_| AppError::bug("a reservation's ids do not match"))?;
            return Ok(ids.map(|id| Attempt { id }));
        }
        for limit in limits {
            let (used, _) = db::rate_limits::window(&state.pool, &limit.bucket, since(limit, now)).await?;
            if used >= limit.max {
                return Err(refusal(state, limit, now).await?);
            }
        }
    }
    Err(refusal(state, limits[0], now).await?)
}

/// Answers the bucket's `429` when it is full, reserving nothing. Only for choosing which
/// refusal a caller hears first; the limit itself is [`reserve`].
pub async fn refuse_when_full(state: &AppState, limit: &Limit) -> Result<(), AppError> {
    let now = state.now();
    let (used, _) = db::rate_limits::window(&state.pool, &limit.bucket, since(limit, now)).await?;
    if used >= limit.max {
        return Err(refusal(state, limit, now).await?);
    }
    Ok(())
}

/// Gives a reserved attempt back (the check it guarded succeeded and counts for nothing).
pub async fn refund(state: &AppState, attempt: Attempt) -> Result<(), AppError> {
    db::rate_limits::delete(&state.pool, attempt.id).await?;
    Ok(())
}

/// Gives several reserved attempts back at once.
pub async fn refund_all<const N: usize>(state: &AppState, attempts: [Attempt; N]) -> Result<(), AppError> {
    db::rate_limits::delete_all(&state.pool, &attempts.map(|a| a.id)).await?;
    Ok(())
}

/// A reserved attempt that can be given back.
pub trait Reservation: Sized {
    fn give_back(self, state: &AppState) -> impl std::future::Future<Output = Result<(), AppError>> + Send;
}

impl Reservation for Attempt {
    async fn give_back(self, state: &AppState) -> Result<(), AppError> {
        refund(state, self).await
    }
}

/// The verdict on a reserved attempt, with the reservation (to give back on a right answer).
/// A check that could not run (the password queue is full, `503`; a store error) judged
/// nothing, so its reservation is given back before the error is answered: a storm that keeps
/// the queue full does not use up the owner's attempts.
pub async fn judged<R: Reservation, T>(
    state: &AppState,
    reserved: R,
    verdict: Result<T, AppError>,
) -> Result<(T, R), AppError> {
    match verdict {
        Ok(v) => Ok((v, reserved)),
        Err(e) => {
            reserved.give_back(state).await?;
            Err(e)
        }
    }
}

/// Counts one attempt that is never refunded (per-IP limits on sign-in and reset requests).
pub async fn take(state: &AppState, limit: &Limit) -> Result<(), AppError> {
    reserve(state, limit).await.map(|_| ())
}

/// Attempts left in the window after this one (for `remainingAttempts`).
pub async fn remaining(state: &AppState, limit: &Limit) -> Result<i64, AppError> {
    let (used, _) = db::rate_limits::window(&state.pool, &limit.bucket, since(limit, state.now())).await?;
    Ok((limit.max - used).max(0))
}

pub async fn clear(state: &AppState, limit: &Limit) -> Result<(), AppError> {
    db::rate_limits::clear(&state.pool, &limit.bucket).await?;
    Ok(())
}

/// Deletes hits older than a day; run now and then.
pub async fn prune(state: &AppState) -> Result<u64, AppError> {
    Ok(db::rate_limits::prune(&state.pool, state.now() - 24 * 3600).await?)
}

#[cfg(test)]
mod tests {
    use super::client_network;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(client_network("2001:db8:1:2:aaaa::1"), client_network("2001:db8:1:2:bbbb::9"));
        assert_ne!(client_network("2001:db8:1:2::1"), client_network("2001:db8:1:3::1"));
        assert_eq!(client_network("192.0.2.7"), "192.0.2.7");
        assert_eq!(client_network("::ffff:192.0.2.7"), "192.0.2.7", "IPv4-mapped is IPv4");
        assert_ne!(client_network("::ffff:192.0.2.7"), client_network("::ffff:198.51.100.1"));
    }
}
