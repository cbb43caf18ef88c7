//! Admin user management (users-api.txt): the list, the admin role, deleting users.
use super::{success, ApiJson, PageQuery, Success};
use app::error::AppError;
use app::ssr::clock::rfc3339;
use app::ssr::services::admin::{self, Role, UserSummary};
use app::ssr::services::identity::{AdminUser, Caller};
use app::ssr::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Count {
    count: i64,
}

#[utoipa::path(
    operation_id = "admin_count",
    get,
    path = "/api/users/count",
    tag = "admin",
    responses((status = 200, description = "How many accounts exist", body = Count)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn count(State(state): State<AppState>, admin: AdminUser) -> Result<Json<Count>, AppError> {
    Ok(Json(Count { count: app::ssr::services::accounts::count_users(&admin, &state).await? }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserBody {
    id: String,
    username: String,
    is_admin: bool,
    is_oidc: bool,
    totp_enabled: bool,
    created_at: String,
}

impl From<UserSummary> for UserBody {
    fn from(u: UserSummary) -> Self {
        let a = u.account;
        Self {
            id: a.id,
            username: a.username,
            is_admin: a.is_admin,
            is_oidc: a.is_oidc,
            totp_enabled: a.totp_enabled,
            created_at: rfc3339(u.created_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Users {
    users: Vec<UserBody>,
    /// Extension: the next page's cursor, when more users follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// In name order; `?search=` (names starting with it), `?limit=` and `?cursor=` are extensions.
#[utoipa::path(
    operation_id = "admin_list_users",
    get,
    path = "/api/users/list",
    tag = "admin",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Page size, 1 to 1000 (default 1000)"), ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page"), ("search" = Option<String>, Query, description = "Names starting with this")),
    responses((status = 200, description = "Every account, by name", body = Users)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    q: PageQuery,
) -> Result<Json<Users>, AppError> {
    let page = admin::list_users(&caller, &state, q.search.as_deref(), &q.page()?).await?;
    Ok(Json(Users { users: page.items.into_iter().map(UserBody::from).collect(), next_cursor: page.next }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetRequest {
    user_id: Option<String>,
    username: Option<String>,
}

#[utoipa::path(
    operation_id = "admin_make_admin",
    post,
    path = "/api/users/make-admin",
    tag = "admin",
    request_body = TargetRequest,
    responses((status = 200, description = "The user is an admin from their next request", body = Success), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn make_admin(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(req): ApiJson<TargetRequest>,
) -> Result<Json<Success>, AppError> {
    admin::set_role(&admin, &state, req.user_id.as_deref(), req.username.as_deref(), Role::Admin).await?;
    Ok(success())
}

#[utoipa::path(
    operation_id = "admin_remove_admin",
    post,
    path = "/api/users/remove-admin",
    tag = "admin",
    request_body = TargetRequest,
    responses((status = 200, description = "The user is no longer an admin from their next request", body = Success), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn remove_admin(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(req): ApiJson<TargetRequest>,
) -> Result<Json<Success>, AppError> {
    admin::set_role(&admin, &state, req.user_id.as_deref(), req.username.as_deref(), Role::User).await?;
    Ok(success())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UsernameRequest {
    username: String,
}

#[utoipa::path(
    operation_id = "admin_delete_user",
    delete,
    path = "/api/users/delete-user",
    tag = "admin",
    request_body = UsernameRequest,
    responses((status = 200, description = "The account and everything it had are gone", body = Success), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn delete_user(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(req): ApiJson<UsernameRequest>,
) -> Result<Json<Success>, AppError> {
    admin::delete_user(&admin, &state, &req.username).await?;
    Ok(success())
}
