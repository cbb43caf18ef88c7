//! The suite runs on the backend it was asked for, and both keep the same rules.
use crate::helpers::*;

#[tokio::test]
async fn the_instance_runs_on_the_selected_backend() {
    let app = spawn_app().await;
    let expected = if crate::postgres::selected() { "postgres" } else { "sqlite" };
    assert_eq!(app.state.pool.backend(), expected);
}

/// The last-admin rule at the store, where the race is tightest: two demotions of the only two
/// admins, issued together, many times over.
#[tokio::test]
async fn the_store_keeps_one_admin_under_simultaneous_demotions() {
    use app::ssr::db::users::{insert, set_admin, Admission, NewUser};
    let app = spawn_app().await;
    let pool = &app.state.pool;
    for round in 0..40 {
        let ids = [format!("a-{round}"), format!("b-{round}")];
        app.sql("UPDATE users SET is_admin = FALSE").await;
        for id in &ids {
            let row = NewUser {
                id,
                username: id,
                username_key: id,
                display_name: id,
                password_hash: None,
                ldap_dn: None,
                oidc: None,
                now: START,
            };
            insert(pool, &row, Admission::AdminIfFirst).await.unwrap();
        }
        app.sql(&format!("UPDATE users SET is_admin = TRUE WHERE id IN ('{}', '{}')", ids[0], ids[1])).await;
        let (a, b) = tokio::join!(set_admin(pool, &ids[0], false), set_admin(pool, &ids[1], false));
        assert!(!(a.unwrap() && b.unwrap()), "round {round}: both demotions went through");
        assert_eq!(app.sql_count("SELECT COUNT(*) FROM users WHERE is_admin = TRUE").await, 1);
    }
}

/// An attempt limit at the store: forty reservations at once on one bucket of five.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_reserves_at_most_the_limit_under_a_burst() {
    use app::ssr::db::rate_limits::{reserve, Window};
    let app = spawn_app().await;
    for round in 0..20 {
        let bucket = format!("burst-{round}");
        let burst = (0..40).map(|_| {
            let (pool, bucket) = (app.state.pool.clone(), bucket.clone());
            tokio::spawn(async move {
                reserve(&pool, START, &[Window { bucket: &bucket, since: START - 60, max: 5 }]).await
            })
        });
        let granted = futures::future::join_all(burst)
            .await
            .into_iter()
            .filter(|r| matches!(r, Ok(Ok(Some(_)))))
            .count();
        assert_eq!(granted, 5, "round {round}");
    }
}

/// Two buckets reserved together (a sign-in's network and account limits): under a burst,
/// half asking in one order and half in the other, neither bucket passes its limit, a request
/// gets a hit in both or in neither, and none deadlocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_reserves_several_buckets_all_or_none_under_a_burst() {
    use app::ssr::db::rate_limits::{reserve, Window};
    let app = spawn_app().await;
    for round in 0..10 {
        let (wide, narrow) = (format!("wide-{round}"), format!("narrow-{round}"));
        let burst = (0..40).map(|i| {
            let (pool, wide, narrow) = (app.state.pool.clone(), wide.clone(), narrow.clone());
            tokio::spawn(async move {
                let w = Window { bucket: &wide, since: START - 60, max: 5 };
                let n = Window { bucket: &narrow, since: START - 60, max: 3 };
                let windows = if i % 2 == 0 { [w, n] } else { [n, w] };
                reserve(&pool, START, &windows).await
            })
        });
        let granted: Vec<Vec<i64>> = futures::future::join_all(burst)
            .await
            .into_iter()
            .filter_map(|r| r.expect("joined").expect("no store error or deadlock"))
            .collect();
        assert_eq!(granted.len(), 3, "round {round}: the narrow bucket's three");
        assert!(granted.iter().all(|ids| ids.len() == 2));
        let count = |b: &str| format!("SELECT COUNT(*) FROM rate_limit_hits WHERE bucket = '{b}'");
        assert_eq!(app.sql_count(&count(&wide)).await, 3, "round {round}: no hit without its pair");
        assert_eq!(app.sql_count(&count(&narrow)).await, 3, "round {round}");
    }
}

/// The first account: of many set-ups at once, one is made, and it is the admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_admits_one_first_user_under_a_burst() {
    use app::ssr::db::users::{insert, Admission, NewUser};
    let app = spawn_app().await;
    for round in 0..10 {
        app.sql("DELETE FROM users").await;
        let burst = (0..20).map(|i| {
            let pool = app.state.pool.clone();
            tokio::spawn(async move {
                let id = format!("first-{round}-{i}");
                let row = NewUser {
                    id: &id,
                    username: &id,
                    username_key: &id,
                    display_name: &id,
                    password_hash: None,
                    ldap_dn: None,
                    oidc: None,
                    now: START,
                };
                insert(&pool, &row, Admission::OnlyFirst).await.unwrap()
            })
        });
        let made: Vec<_> = futures::future::join_all(burst).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(made.iter().flatten().collect::<Vec<_>>(), vec![&true], "round {round}: {made:?}");
        assert_eq!(app.sql_count("SELECT COUNT(*) FROM users").await, 1);
    }
}
