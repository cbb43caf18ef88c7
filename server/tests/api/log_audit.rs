//! The whole run's log holds no secret: every password, passcode, code, token, key and
//! ticket the tests send or receive through the helpers (`TestApp::send` and the cookie posts)
//! is noted, and when the test process exits, the log every instance wrote during the run (at
//! `debug`) is searched for all of them. A find fails the run with the line, the secret masked.
//!
//! The password-reset code is the one exception: the specification has the server log it
//! for the operator to pass on.
use aho_corasick::AhoCorasick;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

/// Body fields whose values are secrets, in requests and answers.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "newPassword",
    "new_password",
    "oldPassword",
    "currentPassword",
    "current_password",
    "passcode",
    "new_passcode",
    "current_passcode",
    "code",
    "totp_code",
    "backupCode",
    "backupCodes",
    "backup_codes",
    "token",
    "mfaToken",
    "temp_token",
    "tempToken",
    "resetToken",
    "key",
    "secret",
    "client_secret",
    "clientSecret",
    "bind_password",
    "bindPassword",
    "ticket",
    "value",
];

/// Cookies whose values are secrets: the session, the trusted device, and the pending
/// second-step, single sign-on and reset bindings.
const SECRET_COOKIES: &[&str] = &[
    app::ssr::http::SESSION_COOKIE,
    app::ssr::http::TRUSTED_DEVICE_COOKIE,
    app::ssr::http::MFA_COOKIE,
    app::ssr::http::OIDC_COOKIE,
    app::ssr::http::RESET_COOKIE,
];

/// Shorter values (error codes, names) are not secrets the tests use.
const MIN_LEN: usize = 6;

fn secrets() -> &'static Mutex<BTreeSet<String>> {
    static SECRETS: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    SECRETS.get_or_init(Default::default)
}

fn note(value: &str) {
    if value.len() >= MIN_LEN {
        secrets().lock().unwrap().insert(value.to_owned());
    }
}

/// Notes the secret fields anywhere in a request body.
pub fn note_request(body: &Value) {
    note_body(body, false);
}

/// Notes the secret fields anywhere in an answer (where `code` is an error's code, not one).
pub fn note_answer(body: &Value) {
    note_body(body, true);
}

fn note_body(body: &Value, answer: bool) {
    match body {
        Value::Object(map) => {
            for (k, v) in map {
                if SECRET_FIELDS.contains(&k.as_str()) && !(answer && k == "code") {
                    note_values(v, answer);
                } else {
                    note_body(v, answer);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| note_body(v, answer)),
        _ => {}
    }
}

fn note_values(v: &Value, answer: bool) {
    match v {
        Value::String(s) => note(s),
        Value::Array(items) => items.iter().for_each(|v| note_values(v, answer)),
        Value::Object(_) => note_body(v, answer),
        _ => {}
    }
}

/// Notes a Bearer token and the secret cookies an answer sets.
pub fn note_exchange(token: Option<&str>, headers: &reqwest::header::HeaderMap) {
    if let Some(t) = token {
        note(t);
    }
    for cookie in headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
        if let Some((name, value)) = cookie.split(';').next().and_then(|kv| kv.split_once('=')) {
            if SECRET_COOKIES.contains(&name) {
                note(value);
            }
        }
    }
}

/// Where the run's full log is kept (set once, by the log set-up).
static FULL_LOG: OnceLock<super::helpers::LogBuffer> = OnceLock::new();

/// Keeps `log` to be searched when the process exits.
pub fn search_at_exit(log: super::helpers::LogBuffer) {
    if FULL_LOG.set(log).is_ok() {
        // SAFETY: registers a plain function with no captured state.
        unsafe { libc::atexit(search) };
    }
}

/// Whether a match of `secret` at `start..end` of `text` stands alone: a numeric code must not
/// be part of a longer token (a time's fraction, a duration, a hex id).
fn stands_alone(text: &[u8], start: usize, end: usize, secret: &str) -> bool {
    if !secret.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let joined = |b: u8| b.is_ascii_alphanumeric() || b == b'.';
    let before = start > 0 && joined(text[start - 1]);
    let after = end < text.len() && joined(text[end]);
    !before && !after
}

extern "C" fn search() {
    let Some(log) = FULL_LOG.get() else { return };
    // A test that panicked while holding a lock does not turn the audit off.
    let text = log.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let secrets = secrets().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let secrets: Vec<&String> = secrets.iter().collect();
    let Ok(finder) = AhoCorasick::new(&secrets) else {
        eprintln!("log audit: could not build the search");
        // SAFETY: ends the process at once, as exit handlers may.
        unsafe { libc::_exit(3) };
    };
    let mut found = 0;
    for m in finder.find_overlapping_iter(&text[..]) {
        let secret = secrets[m.pattern().as_usize()];
        if !stands_alone(&text, m.start(), m.end(), secret) {
            continue;
        }
        found += 1;
        if found <= 5 {
            let line_start = text[..m.start()].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let line_end =
                text[m.end()..].iter().position(|b| *b == b'\n').map_or(text.len(), |i| m.end() + i);
            let line = format!(
                "{}<SECRET>{}",
                String::from_utf8_lossy(&text[line_start..m.start()]),
                String::from_utf8_lossy(&text[m.end()..line_end])
            );
            eprintln!("log audit: a secret the tests used is in the log: {line}");
        }
    }
    let lines = text.iter().filter(|b| **b == b'\n').count();
    if found > 0 {
        eprintln!("log audit: {found} secret(s) found in {lines} log lines");
        // SAFETY: ends the process at once with a failure, as exit handlers may.
        unsafe { libc::_exit(1) };
    }
    eprintln!("log audit: {} secrets, {lines} log lines, none found", secrets.len());
}
