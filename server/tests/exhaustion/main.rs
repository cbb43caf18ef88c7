//! A sign-in storm against the real router, alone in its own test binary so the process's
//! thread count is this server's: password work must queue as tasks, not pile up threads, and
//! a sign-in the full queue turned away must not count as an attempt.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use app::ssr::clock::ManualClock;
use app::ssr::services::rate_limit::Limit;
use server::config::Settings;
use server::startup::Application;
use std::sync::Arc;

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find_map(|l| l.strip_prefix("Threads:")).unwrap().trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_storm_keeps_threads_bounded_me_answering_and_counts_only_judged_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_tests(dir.path().to_path_buf());
    settings.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let app = Application::build(settings, Arc::new(ManualClock::new(1_800_000_000)), None).await.unwrap();
    let state = app.state().clone();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/api/auth/setup"))
        .json(&serde_json::json!({"username": "admin", "password": "grumpy-lantern-orbit-41"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let before = threads();

    // 700 sign-ins from 700 networks (so no per-network limit cuts the storm short): more than
    // the password queue holds (one running per core, 256 waiting), so some are turned away.
    let network = |i: usize| format!("10.{}.{}.1", i / 250, i % 250);
    let storm = (0..700).map(|i| {
        let (client, base) = (client.clone(), base.clone());
        tokio::spawn(async move {
            client
                .post(format!("{base}/api/auth/login"))
                .header("x-forwarded-for", network(i))
                .json(&serde_json::json!({"username": format!("nobody{i}"), "password": "wrong-password-1"}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    });
    let storm: Vec<_> = storm.collect();
    let mut peak = threads();
    let mut me = Vec::new();
    while !storm.iter().all(|h| h.is_finished()) {
        peak = peak.max(threads());
        let started = std::time::Instant::now();
        let r = client.get(format!("{base}/api/auth/me")).bearer_auth(&token).send().await.unwrap();
        me.push((r.status().as_u16(), started.elapsed()));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut statuses = Vec::new();
    for h in storm {
        statuses.push(h.await.unwrap().unwrap());
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let slowest = me.iter().map(|(_, d)| *d).max().unwrap_or_default();
    eprintln!(
        "threads before {before}, peak {peak}; {} `me` answers during the storm, slowest {slowest:?}; sign-ins: {} x 401, {} x 503",
        me.len(),
        statuses.iter().filter(|s| **s == 401).count(),
        statuses.iter().filter(|s| **s == 503).count(),
    );
    assert!(statuses.iter().all(|s| *s == 401 || *s == 503), "{statuses:?}");
    assert!(statuses.contains(&503), "the storm overfills the queue");
    // A judged attempt counts; one the queue turned away judged nothing and counts nothing.
    let since = 1_800_000_000 - 15 * 60;
    for (i, status) in statuses.iter().enumerate() {
        let user = format!("nobody{i}");
        for limit in [Limit::login_user(&user, &network(i)), Limit::login_account(&user)] {
            let (used, _) =
                app::ssr::db::rate_limits::window(&state.pool, &limit.bucket, since).await.unwrap();
            assert_eq!(used, i64::from(*status == 401), "{} after a {status}", limit.bucket);
        }
    }
    assert!(me.iter().all(|(s, _)| *s == 200), "the auth check keeps answering during the storm");
    assert!(peak <= before + cores + 16, "threads grew from {before} to {peak} with {cores} cores");
}
