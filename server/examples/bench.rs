//! Load benchmark (not a test): `bash bench/run.sh`.
//!
//! 1. `GET /api/auth/me` with a valid token on the real router (SQLite session lookup, JWT
//!    verify) against a bare axum handler answering a fixed JSON body, same client, same run.
//! 2. Password sign-in rate (`POST /api/users/login`) against raw argon2id verifies with the
//!    same parameters, both using every core.
//!
//! `BENCH_DATABASE_URL` (an empty PostgreSQL database; default a fresh SQLite file) and
//! `BENCH_NODES` (default 1; with 2, two nodes share the database and the load alternates
//! between them) choose the set-up; `bash bench/run.sh` runs every combination.
// A measuring tool, not the service: any failure should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use app::ssr::clock::SystemClock;
use axum::routing::get;
use serde_json::json;
use server::config::Settings;
use server::startup::Application;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "grumpy-lantern-orbit-41";

struct Figures {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn load(
    client: reqwest::Client,
    urls: Vec<String>,
    token: Option<String>,
    concurrency: usize,
    secs: u64,
) -> Figures {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..concurrency {
        let (client, url, token) = (client.clone(), urls[c % urls.len()].clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let mut req = client.get(&url);
                if let Some(tok) = &token {
                    req = req.bearer_auth(tok);
                }
                let res = req.send().await.expect("request");
                assert!(res.status().is_success(), "status {}", res.status());
                let _ = res.bytes().await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let start = Instant::now();
    let mut all: Vec<Duration> = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let elapsed = start.elapsed().as_secs_f64().max(secs as f64);
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    Figures { rps: all.len() as f64 / elapsed, p50_ms: pct(0.50), p99_ms: pct(0.99) }
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let concurrency: usize =
        std::env::var("BENCH_CONCURRENCY").ok().and_then(|s| s.parse().ok()).unwrap_or(32);
    let nodes: usize = std::env::var("BENCH_NODES").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let database = std::env::var("BENCH_DATABASE_URL").ok();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut bases = Vec::new();
    for n in 0..nodes {
        let mut settings = Settings::for_tests(dir.path().join(format!("node-{n}")));
        if let Some(url) = &database {
            settings.database_url = url.clone().into();
        } else {
            settings.database_url = format!("sqlite://{}", dir.path().join("portcullis.db").display()).into();
        }
        // The nodes share one instance key, as a cluster must.
        settings.secret_key = Some("bench-instance-key-shared-by-all-nodes-0123".to_owned().into());
        // Every login below comes "through a proxy" with its own address, so the per-IP
        // sign-in limit (30 / 15 min) does not cut the measurement short.
        settings.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
        let app = Application::build(settings, Arc::new(SystemClock), None).await.expect("app");
        bases.push(format!("http://127.0.0.1:{}", app.port()));
        tokio::spawn(app.run_until_stopped());
    }
    let base = bases[0].clone();
    let me_urls: Vec<String> = bases.iter().map(|b| format!("{b}/api/auth/me")).collect();

    let bare = axum::Router::new().route(
        "/me",
        get(|| async { axum::Json(json!({"user": {"id": "x", "username": "admin", "role": "admin"}})) }),
    );
    let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let bare_url = format!("http://{}/me", bare_listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(bare_listener, bare).await });

    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("client");
    let setup = client
        .post(format!("{base}/api/auth/setup"))
        .json(&json!({"username": "admin", "password": PASSWORD, "displayName": "Admin"}))
        .send()
        .await
        .expect("setup");
    let token =
        setup.json::<serde_json::Value>().await.expect("json")["token"].as_str().expect("token").to_owned();

    println!(
        "machine: {} cores; load generator runs in the same process; {secs} s per run, {concurrency} connections; database {}; {nodes} node(s)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        if database.is_some() { "PostgreSQL" } else { "SQLite" },
    );
    // Warm-up.
    let _ = load(client.clone(), vec![bare_url.clone()], None, concurrency, 1).await;
    let _ = load(client.clone(), me_urls.clone(), Some(token.clone()), concurrency, 1).await;

    let b = load(client.clone(), vec![bare_url], None, concurrency, secs).await;
    let m = load(client.clone(), me_urls, Some(token), concurrency, secs).await;
    println!(
        "\nGET /api/auth/me (valid token)  {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        m.rps, m.p50_ms, m.p99_ms
    );
    println!(
        "bare axum JSON handler          {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        b.rps, b.p50_ms, b.p99_ms
    );
    println!("  /me reaches {:.0}% of the bare handler's rate", 100.0 * m.rps / b.rps);

    // Sign-in rate vs raw argon2id verify rate.
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) * 2;
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, base, done) = (client.clone(), bases[w % bases.len()].clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u32;
            while Instant::now() < deadline {
                i += 1;
                let res = client
                    .post(format!("{base}/api/users/login"))
                    .header("x-forwarded-for", format!("10.{w}.{}.{}", (i >> 8) & 255, i & 255))
                    .json(&json!({"username": "admin", "password": PASSWORD}))
                    .send()
                    .await
                    .expect("login");
                assert_eq!(res.status(), 200, "login failed");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await.expect("task");
    }
    let login_rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();

    let hash =
        app::ssr::services::passwords::hash(&app::domain::Password::parse(PASSWORD.into()).expect("pw"))
            .await
            .expect("hash");
    let verified = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (hash, verified) = (hash.clone(), verified.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let ok = app::ssr::services::passwords::verify(PASSWORD.into(), Some(hash.clone()))
                    .await
                    .expect("verify");
                assert!(ok);
                verified.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await.expect("task");
    }
    let verify_rate = verified.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    println!("\nPOST /api/users/login           {:>9.1} logins/s", login_rate);
    println!("raw argon2id verify (m=19MiB,t=2,p=1) {:>6.1} verifies/s", verify_rate);
    println!("  sign-in reaches {:.0}% of the raw verify rate", 100.0 * login_rate / verify_rate);
}
