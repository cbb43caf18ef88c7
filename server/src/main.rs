//! The `portcullis` binary: read configuration, start, serve until Ctrl-C.
use clap::Parser;
use server::config::Args;
use server::startup::{init_tracing, Application};

#[tokio::main]
async fn main() {
    let settings = match Args::parse().settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("portcullis: {e}");
            std::process::exit(2);
        }
    };
    let log_control = init_tracing(&settings.log);
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
