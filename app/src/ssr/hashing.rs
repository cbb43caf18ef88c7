//! The password workers: every argon2 run (hash, verify, vault key) and every strength check
//! happens here, on a fixed set of threads, one per core.
//!
//! - **Bounded memory.** Each worker owns one argon2 memory area (19 MiB) and reuses it for
//!   every run, instead of allocating one per run on whichever blocking thread is free; a
//!   worker idle for [`IDLE_RELEASE`] gives its area back, so memory returns near idle after a
//!   storm. At most `cores × 19 MiB` is ever in use for hashing.
//! - **Bounded threads.** As many workers as cores, started once; nothing else grows.
//! - **Fair.** One first-in first-out queue; at most [`MAX_WAITING`] jobs wait, and a job
//!   beyond that is refused at once (`503` with `Retry-After`), never queued.
//! - **Out of the way.** Workers run at a lower scheduling priority (Linux `nice` 5), so on a
//!   busy machine cheap requests (the session check) are not slowed by a sign-in storm, while
//!   on an idle one hashing still gets every core.
//! - A job whose request has gone away before its turn is skipped.
use crate::error::{AppError, ErrorKind};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// argon2id at OWASP's floor: 19 MiB, two passes, one lane.
pub const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

/// How many jobs may wait for a worker before new ones are turned away.
pub const MAX_WAITING: usize = 256;

/// A worker that has had nothing to do for this long frees its memory area.
const IDLE_RELEASE: Duration = Duration::from_secs(5);

/// The parameters new hashes use.
#[allow(clippy::expect_used, reason = "the parameters are constants within argon2's bounds")]
pub fn params() -> Params {
    Params::new(M_COST_KIB, T_COST, P_COST, None).expect("constant argon2 parameters are valid")
}

/// A worker's reusable argon2 memory.
pub struct Scratch(Option<Vec<Block>>);

impl Scratch {
    /// `blocks` blocks of memory: the kept area when it is big enough, else (a stored hash made
    /// with a larger cost) a one-off area for this run.
    fn run<T>(&mut self, blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        let kept = self.0.get_or_insert_with(|| vec![Block::default(); params().block_count()]);
        if blocks <= kept.len() {
            f(&mut kept[..blocks])
        } else {
            f(&mut vec![Block::default(); blocks])
        }
    }

    /// argon2id(secret, salt) with the standard parameters into `out`.
    pub fn derive(&mut self, secret: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), argon2::Error> {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        self.run(argon.params().block_count(), |mem| {
            argon.hash_password_into_with_memory(secret, salt, out, mem)
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for `secret` with a fresh salt.
    pub fn hash(&mut self, secret: &[u8]) -> Result<String, AppError> {
        fn fail(e: impl std::error::Error + 'static) -> AppError {
            AppError::internal("argon2 hashing failed", &e)
        }
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt.as_salt().decode_b64(&mut salt_buf).map_err(fail)?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.derive(secret, salt_bytes, &mut out).map_err(fail)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params()).map_err(fail)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(fail)?),
        };
        Ok(phc.to_string())
    }

    /// Whether `secret` matches the PHC string `stored` (with its own parameters); an
    /// unreadable string is an error.
    pub fn verify(&mut self, secret: &[u8], stored: &str) -> Result<bool, argon2::password_hash::Error> {
        let parsed = PasswordHash::new(stored)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return Ok(false) };
        let algorithm = Algorithm::try_from(parsed.algorithm)?;
        let version = parsed.version.map(Version::try_from).transpose()?.unwrap_or_default();
        let params = Params::try_from(&parsed)?;
        let argon = Argon2::new(algorithm, version, params);
        let mut salt_buf = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_buf)?;
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = out.get_mut(..expected.len()).ok_or(argon2::password_hash::Error::OutputSize {
            provided: std::cmp::Ordering::Greater,
            expected: Output::MAX_LENGTH,
        })?;
        self.run(argon.params().block_count(), |mem| {
            argon.hash_password_into_with_memory(secret, salt, out, mem)
        })?;
        // `Output`'s equality is constant-time.
        Ok(Output::new(out)? == expected)
    }
}

type Job = Box<dyn FnOnce(&mut Scratch) + Send>;

struct Workers {
    queue: SyncSender<Job>,
    waiting: Arc<AtomicUsize>,
}

fn workers() -> &'static Workers {
    static WORKERS: OnceLock<Workers> = OnceLock::new();
    WORKERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (queue, jobs) = mpsc::sync_channel::<Job>(MAX_WAITING);
        let jobs = Arc::new(Mutex::new(jobs));
        let waiting = Arc::new(AtomicUsize::new(0));
        for n in 0..cores {
            let (jobs, waiting) = (jobs.clone(), waiting.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || work(&jobs, &waiting));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password worker");
            }
        }
        Workers { queue, waiting }
    })
}

fn work(jobs: &Mutex<Receiver<Job>>, waiting: &AtomicUsize) {
    lower_priority();
    let mut scratch = Scratch(None);
    loop {
        let next = match jobs.lock() {
            Ok(rx) => rx.recv_timeout(IDLE_RELEASE),
            Err(_) => return,
        };
        match next {
            Ok(job) => {
                waiting.fetch_sub(1, Ordering::SeqCst);
                // A job that panics loses its answer (the request sees an internal error), not
                // the worker.
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut scratch)));
                if run.is_err() {
                    tracing::error!("password work panicked; the worker goes on");
                    scratch.0 = None;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => scratch.0 = None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// `nice 5` for this thread (Linux schedules threads individually).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's own id changes only its niceness.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 5);
    }
}

/// Jobs waiting for a worker now.
pub fn waiting() -> usize {
    workers().waiting.load(Ordering::SeqCst)
}

/// Starts the workers (at start-up, so the first sign-in does not pay for it).
pub fn start() {
    let _ = workers();
}

/// Runs `f` on a password worker and waits for its answer; `503` at once when the queue is
/// full.
pub async fn run<T: Send + 'static>(
    f: impl FnOnce(&mut Scratch) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let w = workers();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let queued = std::time::Instant::now();
    let job: Job = Box::new(move |scratch| {
        crate::ssr::metrics::password_wait(queued.elapsed());
        // The request went away while waiting: its work is not needed.
        if !tx.is_closed() {
            let _ = tx.send(f(scratch));
        }
    });
    w.waiting.fetch_add(1, Ordering::SeqCst);
    if let Err(e) = w.queue.try_send(job) {
        w.waiting.fetch_sub(1, Ordering::SeqCst);
        return Err(match e {
            TrySendError::Full(_) => {
                tracing::warn!("password work queue full; request turned away");
                AppError::of(ErrorKind::Unavailable, "The server is busy. Try again in a moment.")
                    .with_retry_after(1)
            }
            TrySendError::Disconnected(_) => AppError::bug("the password workers stopped"),
        });
    }
    rx.await.map_err(|e| AppError::internal("password work failed", &e))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        let mut s = Scratch(None);
        let ours = s.hash(b"grumpy-lantern-orbit-41").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        let stock = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        assert!(stock
            .verify_password(b"grumpy-lantern-orbit-41", &PasswordHash::new(&ours).unwrap())
            .is_ok());
        let theirs =
            stock.hash_password(b"orbit", &SaltString::generate(&mut rand::rngs::OsRng)).unwrap().to_string();
        assert!(s.verify(b"orbit", &theirs).unwrap());
        assert!(!s.verify(b"orbiT", &theirs).unwrap());
        // A hash made with other parameters (smaller and larger than the kept area) still checks.
        for m in [8 * 1024, 32 * 1024] {
            let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(m, 1, 1, None).unwrap());
            let h =
                other.hash_password(b"x", &SaltString::generate(&mut rand::rngs::OsRng)).unwrap().to_string();
            assert!(s.verify(b"x", &h).unwrap(), "m={m}");
            assert!(!s.verify(b"y", &h).unwrap(), "m={m}");
        }
        assert!(s.verify(b"x", "not a hash").is_err());
    }
}
