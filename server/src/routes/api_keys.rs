//! API keys (users-api.txt): admin-made, each acting as one user, shown once.
use super::{success, ApiJson, PageQuery, Success};
use app::error::AppError;
use app::ssr::clock::rfc3339;
use app::ssr::db::api_keys::ApiKeyRow;
use app::ssr::services::api_keys;
use app::ssr::services::identity::AdminUser;
use app::ssr::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyBody {
    id: String,
    name: String,
    user_id: String,
    username: String,
    token_prefix: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
}

impl From<ApiKeyRow> for KeyBody {
    fn from(k: ApiKeyRow) -> Self {
        Self {
            created_at: rfc3339(k.created_at),
            expires_at: k.expires_at.map(rfc3339),
            last_used_at: k.last_used_at.map(rfc3339),
            id: k.id,
            name: k.name,
            user_id: k.user_id,
            username: k.username,
            token_prefix: k.token_prefix,
        }
    }
}

/// A key just made: the only answer that holds the token (and no `lastUsedAt`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ApiKeyCreated)]
pub struct CreatedBody {
    id: String,
    name: String,
    user_id: String,
    username: String,
    token_prefix: String,
    created_at: String,
    expires_at: Option<String>,
    token: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ApiKeyRequest)]
pub struct CreateRequest {
    name: String,
    user_id: String,
    expires_at: Option<String>,
}

#[utoipa::path(
    operation_id = "api_keys_create",
    post,
    path = "/api/users/api-keys",
    tag = "api keys",
    request_body = CreateRequest,
    responses((status = 201, description = "The key, shown this once", body = CreatedBody), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn create(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(req): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<CreatedBody>), AppError> {
    let created = api_keys::create(
        &admin,
        &state,
        &req.name,
        api_keys::Owner::Id(&req.user_id),
        req.expires_at.as_deref(),
    )
    .await?;
    let k = created.key;
    let body = CreatedBody {
        created_at: rfc3339(k.created_at),
        expires_at: k.expires_at.map(rfc3339),
        id: k.id,
        name: k.name,
        user_id: k.user_id,
        username: k.username,
        token_prefix: k.token_prefix,
        token: created.token,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Keys {
    api_keys: Vec<KeyBody>,
    /// Extension: the next page's cursor, when more keys follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// Every key, newest first. Paged (`?limit=`, `?cursor=`).
#[utoipa::path(
    operation_id = "api_keys_list",
    get,
    path = "/api/users/api-keys",
    tag = "api keys",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Page size, 1 to 1000 (default 1000)"), ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page")),
    responses((status = 200, description = "Every API key, newest first (never the key itself)", body = Keys)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    admin: AdminUser,
    page: PageQuery,
) -> Result<Json<Keys>, AppError> {
    let keys = api_keys::list(&admin, &state, &page.page()?).await?;
    Ok(Json(Keys { api_keys: keys.items.into_iter().map(KeyBody::from).collect(), next_cursor: keys.next }))
}

#[utoipa::path(
    operation_id = "api_keys_delete",
    delete,
    path = "/api/users/api-keys/{key_id}",
    tag = "api keys",
    params(("key_id" = String, Path, description = "The key")),
    responses((status = 200, description = "The key stops working at once", body = Success), (status = 404, body = crate::openapi::ApiError)),
    security(("session" = []), ("cookie" = [])),
)]
pub async fn delete(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(key_id): Path<String>,
) -> Result<Json<Success>, AppError> {
    api_keys::delete(&admin, &state, &key_id).await?;
    Ok(success())
}
