//! What the services count for Prometheus (served by the server at `/metrics`).
//!
//! Every function here does nothing until [`enable`] is called (the operator set a metrics
//! token), so an instance without metrics pays one relaxed load per event. Labels are fixed
//! strings, never user input: the number of series stays bounded whatever clients send.
use crate::error::AppError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns counting on (once a recorder is installed).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// How a refused or failed attempt is counted: `failure` for wrong credentials (`401`),
/// `refused` by a limit (`429`), `error` when the server could not judge it (`5xx`), and
/// `rejected` for anything else (bad input, a sign-in method turned off, a directory or
/// provider that said no), so an alert on `failure` means guessing, not a configuration slip.
pub fn outcome_of(e: &AppError) -> &'static str {
    match e.status() {
        401 => "failure",
        429 => "refused",
        500.. => "error",
        _ => "rejected",
    }
}

/// A first factor's end: `method` is `password`, `ldap` or `sso`; `second_step` when a code is
/// still owed.
pub fn sign_in(method: &'static str, outcome: &'static str) {
    if enabled() {
        metrics::counter!("portcullis_sign_ins_total", "method" => method, "outcome" => outcome).increment(1);
    }
}

/// A second step (TOTP or backup code) at sign-in.
pub fn second_step(outcome: &'static str) {
    if enabled() {
        metrics::counter!("portcullis_second_steps_total", "outcome" => outcome).increment(1);
    }
}

/// An attempt a limit turned away; `kind` is the limit's name (`login-ip`, `passcode`…).
pub fn limit_refused(kind: &'static str) {
    if enabled() {
        metrics::counter!("portcullis_limit_refusals_total", "limit" => kind).increment(1);
    }
}

/// A screen lock: `manual` (the lock route) or `idle` (the server's idle clock).
pub fn screen_locked(reason: &'static str) {
    if enabled() {
        metrics::counter!("portcullis_screen_locks_total", "reason" => reason).increment(1);
    }
}

/// An unlock attempt on the lock screen.
pub fn screen_unlock(outcome: &'static str) {
    if enabled() {
        metrics::counter!("portcullis_screen_unlocks_total", "outcome" => outcome).increment(1);
    }
}

/// How long a password job waited for a worker.
pub fn password_wait(waited: Duration) {
    if enabled() {
        metrics::histogram!("portcullis_password_queue_wait_seconds").record(waited.as_secs_f64());
    }
}
