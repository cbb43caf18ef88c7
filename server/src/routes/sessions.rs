//! Sessions: signing out, the sessions list, revoking one or all.
use super::{clearing_session_cookie, success, ApiJson, PageQuery, Success};
use app::error::AppError;
use app::ssr::clock::rfc3339;
use app::ssr::http::LockedCaller;
use app::ssr::services::identity::Caller;
use app::ssr::services::sessions::{self, SessionInfo};
use app::ssr::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Acknowledged {
    ok: bool,
}

#[utoipa::path(
    operation_id = "sessions_auth_logout",
    post,
    path = "/api/auth/logout",
    tag = "auth",
    responses((status = 200, description = "Signed out (clears the `jwt` cookie)", body = Acknowledged)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn auth_logout(
    State(state): State<AppState>,
    LockedCaller(caller): LockedCaller,
) -> Result<Response, AppError> {
    sessions::end_session(&state, &caller).await?;
    Ok(clearing_session_cookie(&state, Acknowledged { ok: true }))
}

#[utoipa::path(
    operation_id = "sessions_users_logout",
    post,
    path = "/api/users/logout",
    tag = "users",
    responses((status = 200, description = "Signed out (clears the `jwt` cookie)", body = Success)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn users_logout(
    State(state): State<AppState>,
    LockedCaller(caller): LockedCaller,
) -> Result<Response, AppError> {
    sessions::end_session(&state, &caller).await?;
    Ok(clearing_session_cookie(&state, Success::TRUE))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionBody {
    id: String,
    user_id: String,
    username: String,
    device_type: String,
    device_info: String,
    ip_address: String,
    created_at: String,
    expires_at: String,
    last_active_at: String,
    is_revoked: bool,
    is_current_session: bool,
}

impl From<SessionInfo> for SessionBody {
    fn from(s: SessionInfo) -> Self {
        let r = s.row;
        Self {
            created_at: rfc3339(r.created_at),
            expires_at: rfc3339(r.expires_at),
            last_active_at: rfc3339(r.last_active_at),
            is_revoked: r.revoked_at.is_some(),
            is_current_session: s.is_current,
            id: r.id,
            user_id: r.user_id,
            username: r.username,
            device_type: r.device_type,
            device_info: r.device_info,
            ip_address: r.ip_address,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionsBody {
    sessions: Vec<SessionBody>,
    /// Extension: the next page's cursor, when more sessions follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// The caller's sessions; an admin's list holds every user's. Paged (`?limit=`, `?cursor=`).
#[utoipa::path(
    operation_id = "sessions_list",
    get,
    path = "/api/users/sessions",
    tag = "sessions",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Page size, 1 to 1000 (default 1000)"), ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page")),
    responses((status = 200, description = "The caller's sessions (an admin's: everyone's), most recent first", body = SessionsBody)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: PageQuery,
) -> Result<Json<SessionsBody>, AppError> {
    let list =
        sessions::list_visible_sessions(&state, &caller, &page.page()?, sessions::Listing::WithRevoked)
            .await?;
    Ok(Json(SessionsBody {
        sessions: list.items.into_iter().map(SessionBody::from).collect(),
        next_cursor: list.next,
    }))
}

/// Revoking the session this request came with signs this client out: the cookie goes too.
#[utoipa::path(
    operation_id = "sessions_revoke",
    delete,
    path = "/api/users/sessions/{session_id}",
    tag = "sessions",
    params(("session_id" = String, Path, description = "The session")),
    responses((status = 200, description = "The session ended (the caller's own: the `jwt` cookie is cleared)", body = Success), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(session_id): Path<String>,
) -> Result<Response, AppError> {
    let was_current = sessions::revoke_session(&state, &caller, &session_id).await?;
    Ok(if was_current { clearing_session_cookie(&state, Success::TRUE) } else { success().into_response() })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokeAllRequest {
    target_user_id: Option<String>,
    #[serde(default)]
    except_current: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokedBody {
    revoked_count: u64,
}

#[utoipa::path(
    operation_id = "sessions_revoke_all",
    post,
    path = "/api/users/sessions/revoke-all",
    tag = "sessions",
    request_body = Option<RevokeAllRequest>,
    responses((status = 200, description = "How many sessions ended", body = RevokedBody), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn revoke_all(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RevokeAllRequest>,
) -> Result<Json<RevokedBody>, AppError> {
    let n = sessions::revoke_all_sessions(&state, &caller, req.target_user_id.as_deref(), req.except_current)
        .await?;
    Ok(Json(RevokedBody { revoked_count: n }))
}
