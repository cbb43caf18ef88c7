//! The audit log (extension): the admin's search and export, each user's own activity, and the
//! retention setting.
use super::ApiJson;
use super::ApiQuery;
use app::audit::AuditEvent;
use app::error::AppError;
use app::ssr::paging::PageRequest;
use app::ssr::services::audit::{self, Filter, FilterQuery};
use app::ssr::services::identity::{AdminUser, Caller};
use app::ssr::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// The query of the list and the export: every filter is optional and they all narrow.
#[derive(Deserialize, Default)]
pub struct AuditQuery {
    user: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    outcome: Option<String>,
    ip: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    format: Option<String>,
}

impl AuditQuery {
    fn filter(&self) -> Result<Filter, AppError> {
        FilterQuery {
            user: self.user.as_deref(),
            kind: self.kind.as_deref(),
            outcome: self.outcome.as_deref(),
            ip: self.ip.as_deref(),
            since: self.since.as_deref(),
            until: self.until.as_deref(),
        }
        .parse()
    }

    fn page(&self) -> Result<PageRequest, AppError> {
        let limit = self.limit.as_deref().or(Some("100"));
        PageRequest::parse(limit, self.cursor.as_deref())
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventsBody {
    events: Vec<AuditEvent>,
    /// The next page's cursor; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(
    operation_id = "audit_list",
    get,
    path = "/api/admin/audit",
    tag = "audit",
    params(
        ("user" = Option<String>, Query, description = "Events by or about this user (id or name)"),
        ("type" = Option<String>, Query, description = "One event type (snake_case)"),
        ("outcome" = Option<String>, Query, description = "`success`, `failure` or `refused`"),
        ("ip" = Option<String>, Query, description = "The client address"),
        ("since" = Option<String>, Query, description = "From this time: RFC 3339, a date or Unix seconds"),
        ("until" = Option<String>, Query, description = "Up to this time (a date means its end)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Page size, 1 to 1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page"),
    ),
    responses((status = 200, description = "Events, newest first", body = EventsBody)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<EventsBody>, AppError> {
    let page = audit::list(&admin, &state, &q.filter()?, &q.page()?).await?;
    Ok(Json(EventsBody { events: page.items, next_cursor: page.next }))
}

#[utoipa::path(
    operation_id = "audit_activity",
    get,
    path = "/api/users/activity",
    tag = "audit",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Page size, 1 to 1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page"),
    ),
    responses((status = 200, description = "The caller's own events (what they did and what was done to their account), newest first", body = EventsBody)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn activity(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<EventsBody>, AppError> {
    let page = audit::activity(&caller, &state, &q.page()?).await?;
    Ok(Json(EventsBody { events: page.items, next_cursor: page.next }))
}

/// How an export is written.
#[derive(Clone, Copy)]
enum Format {
    Ndjson,
    Csv,
}

const CSV_HEADER: &str = "id,at,type,outcome,code,actor_id,actor_username,via,ip,user_agent,target_kind,target_id,user_id,username,details\r\n";

/// One CSV cell: quoted when it holds a separator, a quote or a line break; a cell a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`,
/// since names in the log are typed by strangers.
fn csv_cell(out: &mut String, v: &str) {
    let guarded = v.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = guarded || v.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    for c in v.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

fn write_event(out: &mut String, e: &AuditEvent, format: Format) {
    match format {
        Format::Ndjson => {
            if let Ok(line) = serde_json::to_string(e) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        Format::Csv => {
            let target = e.target.as_ref();
            let user = e.user.as_ref();
            let cells = [
                e.id.as_str(),
                &e.at,
                e.kind.as_str(),
                e.outcome.as_str(),
                e.code.as_deref().unwrap_or(""),
                e.actor.id.as_deref().unwrap_or(""),
                e.actor.username.as_deref().unwrap_or(""),
                e.actor.via.as_str(),
                &e.ip,
                &e.user_agent,
                target.map_or("", |t| t.kind.as_str()),
                target.map_or("", |t| t.id.as_str()),
                user.and_then(|u| u.id.as_deref()).unwrap_or(""),
                user.and_then(|u| u.username.as_deref()).unwrap_or(""),
                &e.details.to_string(),
            ];
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                csv_cell(out, c);
            }
            out.push_str("\r\n");
        }
    }
}

/// Rows an export reads per query: memory holds one such page, whatever the log's size.
const EXPORT_PAGE: usize = 500;

#[utoipa::path(
    operation_id = "audit_export",
    get,
    path = "/api/admin/audit/export",
    tag = "audit",
    params(
        ("format" = Option<String>, Query, description = "`ndjson` (default) or `csv`"),
        ("user" = Option<String>, Query, description = "Events by or about this user (id or name)"),
        ("type" = Option<String>, Query, description = "One event type (snake_case)"),
        ("outcome" = Option<String>, Query, description = "`success`, `failure` or `refused`"),
        ("ip" = Option<String>, Query, description = "The client address"),
        ("since" = Option<String>, Query, description = "From this time: RFC 3339, a date or Unix seconds"),
        ("until" = Option<String>, Query, description = "Up to this time (a date means its end)"),
    ),
    responses((status = 200, description = "Every matching event, newest first, streamed: one JSON object per line, or CSV with a header row", content((String = "application/x-ndjson"), (String = "text/csv")))),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn export(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, AppError> {
    let format = match q.format.as_deref().map(str::trim).unwrap_or("ndjson") {
        "" | "ndjson" => Format::Ndjson,
        "csv" => Format::Csv,
        _ => {
            return Err(AppError::invalid(
                app::error::ErrorKind::InvalidRequest,
                Some("format"),
                "format is ndjson or csv.",
            ))
        }
    };
    let filter = q.filter()?;
    // Checked now, so a bad filter is a 400 rather than a broken download.
    let first = audit::list(&admin, &state, &filter, &PageRequest::first(EXPORT_PAGE)).await?;
    let header = match format {
        Format::Csv => CSV_HEADER.to_owned(),
        Format::Ndjson => String::new(),
    };
    // Each step sends one page; a failure part-way ends the stream with an error, so the
    // client sees a cut connection, never a short file that looks whole.
    let pages = futures_util::stream::unfold(
        (Some(first), header, state, admin, filter),
        move |(page, mut out, state, admin, filter)| async move {
            let page = page?;
            for e in &page.items {
                write_event(&mut out, e, format);
            }
            let next = match page.next {
                None => None,
                Some(cursor) => match PageRequest::sized(EXPORT_PAGE, Some(&cursor)) {
                    Ok(req) => match audit::list(&admin, &state, &filter, &req).await {
                        Ok(p) => Some(p),
                        Err(e) => {
                            return Some((
                                Err(std::io::Error::other(e.to_string())),
                                (None, String::new(), state, admin, filter),
                            ))
                        }
                    },
                    Err(e) => {
                        return Some((
                            Err(std::io::Error::other(e.to_string())),
                            (None, String::new(), state, admin, filter),
                        ))
                    }
                },
            };
            Some((Ok(Bytes::from(out)), (next, String::new(), state, admin, filter)))
        },
    );
    let (content_type, name) = match format {
        Format::Ndjson => ("application/x-ndjson", "portcullis-audit.ndjson"),
        Format::Csv => ("text/csv; charset=utf-8", "portcullis-audit.csv"),
    };
    let mut res = Body::from_stream(pages).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Retention {
    /// Days an event is kept, 1 to 3650 (default 365).
    days: i64,
}

#[utoipa::path(
    operation_id = "audit_retention",
    get,
    path = "/api/admin/audit/retention",
    tag = "audit",
    responses((status = 200, description = "Days events are kept", body = Retention)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn retention(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<Retention>, AppError> {
    Ok(Json(Retention { days: audit::retention_days(&state).await? }))
}

#[utoipa::path(
    operation_id = "audit_set_retention",
    put,
    path = "/api/admin/audit/retention",
    tag = "audit",
    request_body = Retention,
    responses((status = 200, description = "Saved; older events go at the next pruning", body = Retention)),
    security(("session" = []), ("cookie" = []), ("api_key" = [])),
)]
pub async fn set_retention(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiJson(req): ApiJson<Retention>,
) -> Result<Json<Retention>, AppError> {
    app::ssr::services::settings::set_audit_retention_days(&admin, &state, req.days).await?;
    Ok(Json(req))
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        let cell = |v: &str| {
            let mut s = String::new();
            csv_cell(&mut s, v);
            s
        };
        assert_eq!(cell("alice"), "alice");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "\"'-1\"");
    }
}
