//! Lists that grow with the instance page by `limit` and `cursor` (extensions), and the user
//! list searches by name; without them a small instance answers exactly the documents' shape.
use crate::helpers::*;
use serde_json::{json, Value};

/// Follows `nextCursor` from `first` (a path with `limit`) to the end: every item, in order,
/// and how many pages it took.
async fn walk(app: &TestApp, token: &str, first: &str, key: &str, field: &str) -> (Vec<String>, usize) {
    let (mut seen, mut pages, mut path) = (Vec::new(), 0, first.to_owned());
    loop {
        let r = app.get(&path, Some(token)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        pages += 1;
        seen.extend(r.body[key].as_array().unwrap().iter().map(|u| u[field].as_str().unwrap().to_owned()));
        match r.body.get("nextCursor").and_then(Value::as_str) {
            Some(c) => path = format!("{first}&cursor={c}"),
            None => return (seen, pages),
        }
        assert!(pages < 50, "the cursor never ended");
    }
}

#[tokio::test]
async fn the_user_list_pages_by_name_and_searches_by_its_start() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    let values: Vec<String> =
        (0..24).map(|i| format!("('id-{i}', 'User{i:02}', 'user{i:02}', 'User {i}', 0, {START})")).collect();
    app.sql(&format!(
        "INSERT INTO users (id, username, username_key, display_name, tokens_valid_after, created_at) VALUES {}",
        values.join(", ")
    ))
    .await;

    // Small pages walk every user once, in name order, any signed-in user may read it.
    let (names, pages) = walk(&app, &alice, "/api/users/list?limit=5", "users", "username").await;
    let mut expected: Vec<String> = vec!["admin".into(), "alice".into()];
    expected.extend((0..24).map(|i| format!("User{i:02}")));
    assert_eq!(names, expected);
    assert_eq!(pages, 6);

    // Without paging the whole (small) list comes back, as the documents describe.
    let r = app.get("/api/users/list", Some(&admin)).await;
    assert_eq!(r.body["users"].as_array().unwrap().len(), 26);
    assert!(r.body.get("nextCursor").is_none());

    // Search: names starting with the text, any case, paged too.
    let (found, _) = walk(&app, &admin, "/api/users/list?limit=3&search=USER1", "users", "username").await;
    assert_eq!(found, (10..20).map(|i| format!("User{i}")).collect::<Vec<_>>());
    let r = app.get("/api/users/list?search=al", Some(&admin)).await;
    assert_eq!(r.body["users"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["users"][0]["username"], "alice");
    for odd in ["%25", "_", "zz", "%27%20OR%201%3D1"] {
        let r = app.get(&format!("/api/users/list?search={odd}"), Some(&admin)).await;
        assert_eq!((r.status.as_u16(), r.body["users"].as_array().map(Vec::len)), (200, Some(0)), "{odd}");
    }

    // Bad paging input is a clear 400 on the field, never a 500.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=x", "limit"),
        ("cursor=%2A%2A", "cursor"),
        ("cursor=AA", "cursor"),
    ] {
        let r = app.get(&format!("/api/users/list?{query}"), Some(&admin)).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_request"), "{query}: {}", r.body);
        assert_eq!(r.body["field"], field, "{query}");
    }
    assert_eq!(app.get("/api/users/list?limit=%ZZ", Some(&admin)).await.status, 400);
}

#[tokio::test]
async fn session_lists_page_most_recent_first_and_keep_to_their_owner() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice, _) = app.user("alice").await;
    // Seven more live sessions for alice, one expired, at distinct activity times.
    for i in 0..8 {
        let expires = if i == 7 { START - 1 } else { START + 3600 };
        app.sql(&format!(
            "INSERT INTO sessions (id, user_id, device_type, device_info, ip_address, created_at, expires_at, last_active_at)
             SELECT 'seeded-{i}', id, 'desktop', 'Firefox on Linux', '10.0.0.{i}', {}, {expires}, {}
             FROM users WHERE username_key = 'alice'",
            START - 7200,
            START - 100 * (i + 1),
        ))
        .await;
    }
    let (all, pages) = walk(&app, &admin, "/api/users/sessions?limit=3", "sessions", "id").await;
    assert_eq!(all.len(), 9, "admin, alice's sign-in and seven seeded: {all:?}");
    assert_eq!(pages, 3);
    let seeded: Vec<&String> = all.iter().filter(|id| id.starts_with("seeded-")).collect();
    assert_eq!(seeded, (0..7).map(|i| format!("seeded-{i}")).collect::<Vec<_>>().iter().collect::<Vec<_>>());
    assert!(!all.contains(&"seeded-7".to_owned()), "expired sessions are not listed");

    let (mine, _) = walk(&app, &alice, "/api/users/sessions?limit=2", "sessions", "username").await;
    assert_eq!(mine.len(), 8);
    assert!(mine.iter().all(|u| u == "alice"), "{mine:?}");
    let r = app.get("/api/users/sessions?limit=2&cursor=bm90LWEtcGFpcg", Some(&alice)).await;
    assert_eq!((r.status.as_u16(), r.body["field"].clone()), (400, json!("cursor")));
}

#[tokio::test]
async fn api_keys_page_newest_first() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, alice_id) = app.user("alice").await;
    for name in ["one", "two", "three"] {
        let r =
            app.post("/api/users/api-keys", Some(&admin), json!({"name": name, "userId": alice_id})).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let (names, pages) = walk(&app, &admin, "/api/users/api-keys?limit=2", "apiKeys", "name").await;
    assert_eq!(pages, 2);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["one", "three", "two"]);
}
