//! `/healthz` and `/readyz`: unauthenticated, cheap, never cached.
use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn alive_and_ready_answer_without_a_session_and_are_not_cached() {
    let app = spawn_app().await;
    let r = app.get("/healthz", None).await;
    assert_eq!((r.status.as_u16(), r.body.clone()), (200, json!({"status": "ok"})));
    assert_eq!(r.headers["cache-control"], "no-store");
    let r = app.get("/readyz", None).await;
    assert_eq!((r.status.as_u16(), r.body.clone()), (200, json!({"status": "ready"})));
    assert_eq!(r.headers["cache-control"], "no-store");
    // Not a page: no redirect to set-up on a fresh instance.
    assert!(r.headers.get("location").is_none());
}

/// A migration of this build missing (or failed) is not ready: a load balancer must not send it
/// traffic. One from a newer build (a rolling upgrade's first node applied it) is: every old node
/// going out of service at once would leave none. Health itself always answers.
#[tokio::test]
async fn readiness_follows_the_schema() {
    let app = spawn_app().await;
    app.sql("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99990101000001, 'from a newer build', TRUE, '', 0)")
        .await;
    assert_eq!(app.get("/readyz", None).await.status.as_u16(), 200);
    app.sql("UPDATE _sqlx_migrations SET success = FALSE WHERE version = 99990101000001").await;
    let r = app.get("/readyz", None).await;
    assert_eq!((r.status.as_u16(), r.code()), (503, "unavailable"));
    assert_eq!(app.get("/healthz", None).await.status.as_u16(), 200);
    app.sql("DELETE FROM _sqlx_migrations WHERE version = 99990101000001").await;
    assert_eq!(app.get("/readyz", None).await.status.as_u16(), 200);
    app.sql("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)").await;
    assert_eq!(app.get("/readyz", None).await.status.as_u16(), 503);
}
