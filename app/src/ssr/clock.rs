//! The clock every expiry, window and lock reads, so tests can set the time.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Unix time in seconds.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to.
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start: i64) -> Self {
        Self(Arc::new(AtomicI64::new(start)))
    }
    pub fn set(&self, t: i64) {
        self.0.store(t, Ordering::SeqCst);
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// How long before `now` the time `t` was, in words a person reads at a glance ("just now",
/// "5 minutes ago", "3 days ago"); the exact time goes beside it.
pub fn ago(now: i64, t: i64) -> String {
    let secs = (now - t).max(0);
    let (n, unit) = match secs {
        0..60 => return "just now".to_owned(),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// RFC 3339 text for a Unix time, as the API reports times.
pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod ago_tests {
    #[test]
    fn reads_at_a_glance() {
        assert_eq!(super::ago(1000, 1000), "just now");
        assert_eq!(super::ago(1000, 1010), "just now");
        assert_eq!(super::ago(1000, 940), "1 minute ago");
        assert_eq!(super::ago(10_000, 10_000 - 7200), "2 hours ago");
        assert_eq!(super::ago(1_000_000, 1_000_000 - 3 * 86_400), "3 days ago");
    }
}
