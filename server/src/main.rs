//! The `portcullis` binary: read configuration, start, serve until Ctrl-C.
use server::config::Args;
use server::startup::{init_tracing, Application};

/// glibc's allocator keeps freed memory in per-thread arenas and raises its "big block"
/// threshold as it goes, so memory used once (a sign-in storm) stays with the process. Fixed
/// thresholds hand big blocks (argon2's 19 MiB areas) straight back and trim free memory above
/// 1 MiB; a few arenas are enough for a handful of threads.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; it is called before any other thread runs.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 4);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 20);
    }
}

fn main() {
    tune_allocator();
    // SAFETY: no other thread exists yet, so none is using SQLite.
    unsafe { app::ssr::db::point_reads::quiet_memory_statistics() };
    #[allow(clippy::expect_used, reason = "without a runtime there is nothing to serve")]
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime")
        .block_on(serve());
}

async fn serve() {
    let args = Args::load();
    let check_only = args.as_ref().is_ok_and(|a| a.check_config);
    let settings = match args.and_then(Args::settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("portcullis: {e}");
            std::process::exit(2);
        }
    };
    if check_only {
        println!("portcullis: the configuration is valid");
        return;
    }
    let log_control = init_tracing(&settings.log, settings.log_format);
    let app = match Application::build(
        settings,
        std::sync::Arc::new(app::ssr::clock::SystemClock),
        Some(log_control),
    )
    .await
    {
        Ok(app) => app,
        Err(e) => {
            eprintln!("portcullis: {e}");
            std::process::exit(1);
        }
    };
    tracing::info!("listening on http://{}", app.local_addr());
    if let Err(e) = app.run_until_stopped().await {
        eprintln!("portcullis: {e}");
        std::process::exit(1);
    }
}
