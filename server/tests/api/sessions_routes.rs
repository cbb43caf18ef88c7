use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn sessions_record_the_device_and_mark_the_current_one() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (second, _) = app.login("admin", ADMIN_PASSWORD).await;
    let r = app.get("/api/users/sessions", Some(&second)).await;
    let list = r.body["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let current: Vec<_> = list.iter().filter(|s| s["isCurrentSession"] == true).collect();
    assert_eq!(current.len(), 1);
    let s = current[0];
    assert_eq!(s["deviceType"], "desktop");
    assert!(s["deviceInfo"].as_str().unwrap().starts_with("Chrome 120"), "{s}");
    assert_eq!(s["ipAddress"], "127.0.0.1");
    assert_eq!(s["username"], "admin");
    assert_eq!(s["isRevoked"], false);
    assert!(s["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(s["expiresAt"].is_string() && s["lastActiveAt"].is_string() && s["userId"].is_string());
    let _ = admin;
}

#[tokio::test]
async fn a_user_sees_only_their_sessions_and_an_admin_sees_all() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    let mine = app.get("/api/users/sessions", Some(&alice)).await;
    assert!(mine.body["sessions"].as_array().unwrap().iter().all(|s| s["username"] == "alice"));
    let all = app.get("/api/users/sessions", Some(&admin)).await;
    let names: Vec<_> =
        all.body["sessions"].as_array().unwrap().iter().map(|s| s["username"].clone()).collect();
    assert!(names.contains(&json!("alice")) && names.contains(&json!("admin")));
}

#[tokio::test]
async fn a_revoked_session_is_refused_on_its_next_request() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (other, _) = app.login("admin", ADMIN_PASSWORD).await;
    let list = app.get("/api/users/sessions", Some(&admin)).await;
    let other_id =
        list.body["sessions"].as_array().unwrap().iter().find(|s| s["isCurrentSession"] == false).unwrap()
            ["id"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_eq!(app.get("/api/users/me", Some(&other)).await.status, 200);
    let r = app.delete(&format!("/api/users/sessions/{other_id}"), Some(&admin)).await;
    assert_eq!(r.body, json!({"success": true}));
    assert_eq!(app.get("/api/users/me", Some(&other)).await.status, 401);
    assert_eq!(app.get("/api/users/me", Some(&admin)).await.status, 200);
}

#[tokio::test]
async fn revoking_someone_elses_session_is_forbidden_and_unknown_ones_are_404() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    let admin_sessions = app.get("/api/users/sessions", Some(&admin)).await;
    let admin_sid = admin_sessions.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["username"] == "admin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.delete(&format!("/api/users/sessions/{admin_sid}"), Some(&alice)).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "forbidden"));
    assert_eq!(app.get("/api/users/me", Some(&admin)).await.status, 200);
    let r = app.delete("/api/users/sessions/no-such-session", Some(&alice)).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn revoke_all_can_keep_the_current_session() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (b, _) = app.login("admin", ADMIN_PASSWORD).await;
    let (c, _) = app.login("admin", ADMIN_PASSWORD).await;
    let r = app.post("/api/users/sessions/revoke-all", Some(&admin), json!({"exceptCurrent": true})).await;
    assert_eq!(r.body, json!({"revokedCount": 2}));
    assert_eq!(app.get("/api/users/me", Some(&admin)).await.status, 200);
    assert_eq!(app.get("/api/users/me", Some(&b)).await.status, 401);
    assert_eq!(app.get("/api/users/me", Some(&c)).await.status, 401);
    let r = app.post("/api/users/sessions/revoke-all", Some(&admin), json!({})).await;
    assert_eq!(r.body, json!({"revokedCount": 1}));
    assert_eq!(app.get("/api/users/me", Some(&admin)).await.status, 401);
}

#[tokio::test]
async fn only_an_admin_revokes_another_users_sessions() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, alice_id) = app.user("alice").await;
    let (_bob, bob_id) = app.user("bob").await;
    let r = app.post("/api/users/sessions/revoke-all", Some(&alice), json!({"targetUserId": bob_id})).await;
    assert_eq!(r.status, 403);
    let r = app.post("/api/users/sessions/revoke-all", Some(&admin), json!({"targetUserId": "nobody"})).await;
    assert_eq!(r.status, 404);
    let r = app.post("/api/users/sessions/revoke-all", Some(&admin), json!({"targetUserId": alice_id})).await;
    assert_eq!(r.body["revokedCount"], 1);
    assert_eq!(app.get("/api/users/me", Some(&alice)).await.status, 401);
}

/// Sessions that expired more than a day ago are deleted (with their terminal grants); live
/// ones, and recently expired or revoked ones, stay.
#[tokio::test]
async fn expired_sessions_are_pruned_after_a_day() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (old, _) = app.login("admin", ADMIN_PASSWORD).await;
    // Two days and a bit later the first two sessions (24 h lifetime) are long expired.
    app.clock.advance(2 * 24 * 3600 + 60);
    let (fresh, _) = app.login("admin", ADMIN_PASSWORD).await;
    let (revoked, _) = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(app.post("/api/users/logout", Some(&revoked), json!({})).await.status.as_u16(), 200);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM sessions").await, 4);
    let deleted = app::ssr::services::sessions::prune_expired(&app.state).await.unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM sessions").await, 2);
    assert_eq!(app.get("/api/auth/me", Some(&fresh)).await.status.as_u16(), 200);
    for gone in [&admin, &old] {
        assert_eq!(app.get("/api/auth/me", Some(gone)).await.status.as_u16(), 401);
    }
    // Nothing more to do on a second run.
    assert_eq!(app::ssr::services::sessions::prune_expired(&app.state).await.unwrap(), 0);
}

/// The session check may answer from memory only while the database file is unchanged: a
/// revoke or a lock written by another process (here Debian's `sqlite3` shell) is in force at
/// the very next request, however often the session was checked before.
#[tokio::test]
async fn a_change_made_by_another_process_is_in_force_at_the_next_request() {
    if crate::postgres::selected() {
        return; // the SQLite file only; several nodes on PostgreSQL have their own test
    }
    let app = spawn_app().await;
    let _admin = app.setup_admin().await;
    let (token, user_id) = app.user("dora").await;
    let (other, _) = app.login("dora", USER_PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(app.get("/api/auth/me", Some(&token)).await.status, 200);
        assert_eq!(app.get("/api/auth/me", Some(&other)).await.status, 200);
    }
    let db = app.dir.path().join("portcullis.db");
    let shell = |sql: &str| {
        let out = std::process::Command::new("sqlite3")
            .args(["-bail", "-cmd", ".timeout 5000"])
            .arg(&db)
            .arg(sql)
            .output()
            .expect("Debian's sqlite3 shell");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    // A passcode and a lock on every session, from outside: the next request is 423.
    shell(&format!(
        "UPDATE users SET passcode_hash = 'x' WHERE id = '{user_id}';
         UPDATE sessions SET locked_at = 1 WHERE user_id = '{user_id}';"
    ));
    assert_eq!(app.get("/api/auth/me", Some(&token)).await.code(), "account_locked");
    shell(&format!("UPDATE sessions SET locked_at = NULL WHERE user_id = '{user_id}';"));
    assert_eq!(app.get("/api/auth/me", Some(&token)).await.status, 200);
    // One session revoked from outside: refused at once, the other still in.
    shell(&format!(
        "UPDATE sessions SET revoked_at = 1 WHERE user_id = '{user_id}' AND id = \
         (SELECT id FROM sessions WHERE user_id = '{user_id}' ORDER BY created_at, id LIMIT 1);"
    ));
    let answers = [
        app.get("/api/auth/me", Some(&token)).await.status,
        app.get("/api/auth/me", Some(&other)).await.status,
    ];
    assert_eq!(answers.iter().filter(|s| **s == 401).count(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|s| **s == 200).count(), 1, "{answers:?}");
    // The user deleted from outside: nobody is in.
    shell(&format!(
        "DELETE FROM sessions WHERE user_id = '{user_id}'; DELETE FROM users WHERE id = '{user_id}';"
    ));
    assert_eq!(app.get("/api/auth/me", Some(&other)).await.status, 401);
}
