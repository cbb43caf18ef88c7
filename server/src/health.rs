//! Health for load balancers and orchestrators, unauthenticated and cheap:
//! `GET /healthz` says the process answers (no database), `GET /readyz` that the database
//! answers and every migration of this build is applied.
use app::error::AppError;
use app::ssr::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(alive)).routes(routes!(ready))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Alive {
    /// Always `ok`.
    status: &'static str,
}

/// The process serves requests (no database is asked).
#[utoipa::path(operation_id = "health_alive", get, path = "/healthz", tag = "health", responses((status = 200, description = "Alive", body = Alive)))]
async fn alive() -> Json<Alive> {
    Json(Alive { status: "ok" })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Ready {
    /// Always `ready`.
    status: &'static str,
}

/// The database answers and every migration of this build is applied.
#[utoipa::path(operation_id = "health_ready", get, path = "/readyz", tag = "health", responses((status = 200, description = "Ready", body = Ready)))]
async fn ready(State(state): State<AppState>) -> Result<Json<Ready>, AppError> {
    app::ssr::services::settings::check_ready(&state).await?;
    Ok(Json(Ready { status: "ready" }))
}
