//! Health for load balancers and orchestrators, unauthenticated and cheap:
//! `GET /healthz` says the process answers (no database), `GET /readyz` that the database
//! answers and every migration of this build is applied.
use app::error::AppError;
use app::ssr::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(alive)).route("/readyz", get(ready))
}

async fn alive() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    app::ssr::services::settings::check_ready(&state).await?;
    Ok(Json(json!({"status": "ready"})))
}
