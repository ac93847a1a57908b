//! Staff accounts under attack: throttling that bursts cannot race, argon2 work bounded by a
//! process-wide gate, no lockout of staff by strangers, least privilege in the admin, sessions
//! that end when credentials or access change, and staff managed from the admin.

use crate::common;

use backend::{
    db::{audit_log, users},
    staff::verify_gate,
};
use common::{
    TestApp, eventually, server_session_cookie,
    staff::{PASSWORD, StaffCookie},
};
use reqwest::StatusCode;
use testkit::Backend;

testkit::each_backend!(
    backend:
    thirty_parallel_guesses_for_one_email_verify_at_most_five,
    two_hundred_parallel_logins_never_run_more_argon2_than_its_permits,
    a_strangers_failures_never_lock_a_staff_member_out,
    next_with_a_control_character_lands_on_the_admin,
    plain_staff_cannot_change_staff_or_superuser_accounts,
    reset_deactivation_and_demotion_end_staff_sessions_for_good,
    a_superuser_adds_staff_and_resets_passwords_in_the_admin,
    staff_change_their_own_password_which_ends_their_other_sessions,
);

const WRONG: &str = "not the password at all";

/// A login from the client at `ip` (the app trusts X-Forwarded-For in these tests).
async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/admin/login"))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .header("x-forwarded-for", ip)
        .form(&[("email", email), ("password", password), ("next", "")])
        .send()
        .await
        .expect("request")
}

async fn proxied(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, &[("TRUST_PROXY_HEADERS", "true")]).await
}

async fn thirty_parallel_guesses_for_one_email_verify_at_most_five(backend: Backend) {
    let app = proxied(backend).await;
    app.create_staff("boss@example.com", false).await;
    let answers =
        futures::future::join_all((0..30).map(|_| login_from(&app, "198.51.100.7", "boss@example.com", WRONG))).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    // Every checked password is a 401 (a refusal is a 429 before any check), and every check
    // left its row; the old read-check-write code checked and recorded all 30.
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(checked <= 5, "{checked} passwords checked under the burst: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    let recorded = backend::db::login_attempts::count_for_email(&app.db, "boss@example.com").await.expect("count");
    assert_eq!(recorded, checked as i64, "every checked attempt is recorded, no more");
    eprintln!("burst of 30 guesses: {checked} checked, {recorded} recorded");
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

async fn two_hundred_parallel_logins_never_run_more_argon2_than_its_permits(backend: Backend) {
    let app = proxied(backend).await;
    app.create_staff("boss@example.com", false).await;
    let (rss_before, before) = (peak_rss_kib(), verify_gate::stats());
    // 200 clients, so that throttling refuses none of them: only the gate stands in the way.
    let answers = futures::future::join_all((0..200).map(|i| {
        let ip = format!("10.1.{}.{}", i / 250, i % 250 + 1);
        let app = &app;
        async move { login_from(app, &ip, "boss@example.com", WRONG).await }
    }))
    .await;
    let after = verify_gate::stats();
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert!(after.peak <= after.permits, "{} argon2 checks ran at once, over {} permits", after.peak, after.permits);
    assert!(statuses.iter().all(|s| matches!(s, 200 | 401 | 429)), "{statuses:?}");
    let after_burst = login_from(&app, "10.2.0.1", "boss@example.com", PASSWORD).await;
    assert_eq!(after_burst.status(), StatusCode::OK, "the gate is free again once the burst is over");
    eprintln!(
        "burst of 200 logins: {} verified, peak {} at once ({} permits), {} refused busy, peak RSS {} -> {} KiB",
        after.total - before.total,
        after.peak,
        after.permits,
        statuses.iter().filter(|s| **s == 429).count(),
        rss_before,
        peak_rss_kib()
    );
}

async fn a_strangers_failures_never_lock_a_staff_member_out(backend: Backend) {
    let app = proxied(backend).await;
    app.create_staff("boss@example.com", false).await;
    let stranger = "203.0.113.9";
    for _ in 0..5 {
        assert_eq!(login_from(&app, stranger, "boss@example.com", WRONG).await.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = login_from(&app, stranger, "boss@example.com", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "the stranger is refused, even with the password");
    // The same /64 is the same client.
    let boss = login_from(&app, "2001:db8:7:7::1", "boss@example.com", PASSWORD).await;
    assert_eq!(boss.status(), StatusCode::OK, "the staff member, elsewhere, still logs in");
    assert!(server_session_cookie(&boss).is_some());
    // Under attack (5 failures on the email), a client that failed twice itself is refused too.
    for expected in [StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS] {
        assert_eq!(login_from(&app, "2001:db8:9:9::1", "boss@example.com", WRONG).await.status(), expected);
    }
    let same_64 = login_from(&app, "2001:db8:9:9:ffff::2", "boss@example.com", PASSWORD).await;
    assert_eq!(same_64.status(), StatusCode::TOO_MANY_REQUESTS, "another address in the /64 is the same client");
}

async fn next_with_a_control_character_lands_on_the_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("boss@example.com", false).await;
    for next in ["/admin\n", "/admin/users\r\nSet-Cookie: planted=1"] {
        let res = app
            .client
            .post(app.url("/admin/login"))
            .header("origin", &app.base)
            .header("accept", "text/html")
            .form(&[("email", "boss@example.com"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::FOUND, "{next:?}");
        assert_eq!(res.headers().get("location").and_then(|v| v.to_str().ok()), Some("/admin"), "{next:?}");
        assert!(server_session_cookie(&res).is_some(), "{next:?}: logged in");
    }
}

fn edit<'a>(id: &'a str, first: &'a str, flags: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("id", id), ("first_name", first), ("last_name", ""), ("username", "")];
    form.extend(flags.iter().map(|f| (*f, "on")));
    form
}

async fn plain_staff_cannot_change_staff_or_superuser_accounts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let root = app.create_staff("root@example.com", true).await;
    let other = app.create_staff("other@example.com", false).await;
    app.create_staff("plain@example.com", false).await;
    let plain = app.staff_login("plain@example.com").await;
    let audited = || async { audit_log::list(&app.db, 1).await.expect("audit").total };
    let audit_before = audited().await;
    let (root_id, other_id) = (root.id.to_string(), other.id.to_string());
    for (what, form) in [
        ("rename a superuser", edit(&root_id, "Renamed", &["is_active", "is_staff", "is_superuser"])),
        ("deactivate a superuser", edit(&root_id, "", &["is_staff", "is_superuser"])),
        ("demote a superuser", edit(&root_id, "", &["is_active", "is_staff"])),
        ("rename staff", edit(&other_id, "Renamed", &["is_active", "is_staff"])),
        ("deactivate staff", edit(&other_id, "", &["is_staff"])),
        ("demote staff", edit(&other_id, "", &["is_active"])),
    ] {
        let res = app.admin_post("/api/admin/user-update", Some(&plain), &form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
    }
    for (id, was) in [(root.id, &root), (other.id, &other)] {
        let now = users::find_by_id(&app.db, id).await.expect("query").expect("row");
        assert_eq!(
            (&now.first_name, now.is_active, now.is_staff, now.is_superuser),
            (&was.first_name, was.is_active, was.is_staff, was.is_superuser),
            "nothing written"
        );
    }
    assert_eq!(audited().await, audit_before, "nothing audited");
    // The edit page shows such a row read-only to plain staff.
    let html = app.admin_page(&format!("/admin/users/{}", root.id), &plain).await.text().await.expect("html");
    assert!(html.contains(r#"data-testid="read-only""#) && !html.contains(">Save</button>"), "{html}");

    let root_cookie = app.staff_login("root@example.com").await;
    let demote = edit(&other_id, "", &["is_active"]);
    assert_eq!(app.admin_post("/api/admin/user-update", Some(&root_cookie), &demote).await.status(), StatusCode::OK);
    assert!(!users::find_by_id(&app.db, other.id).await.expect("query").expect("row").is_staff);
}

/// Whether `cookie` still opens the admin.
async fn admits(app: &TestApp, cookie: &StaffCookie) -> bool {
    app.admin_post("/api/admin/users", Some(cookie), &[]).await.status() == StatusCode::OK
}

fn reset_with_the_cli(app: &TestApp, email: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["create-staff", "--email", email, "--password-stdin"])
        .env("DATABASE_URL", app.db_url.as_str())
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("server create-staff");
    child.stdin.take().expect("stdin").write_all(format!("{PASSWORD} again\n").as_bytes()).expect("write");
    assert!(child.wait().expect("exit").success(), "create-staff resets the password");
}

async fn log_in_again(app: &TestApp, password: &str) -> StaffCookie {
    let res = app.staff_login_with("boss@example.com", password, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    StaffCookie(server_session_cookie(&res).expect("cookie"))
}

async fn reset_deactivation_and_demotion_end_staff_sessions_for_good(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boss = app.create_staff("boss@example.com", false).await;
    app.create_staff("root@example.com", true).await;
    let root = app.staff_login("root@example.com").await;
    let second = matches!(backend, Backend::Postgres).then_some(());
    let beside = match second {
        Some(()) => Some(app.spawn_beside(&[]).await),
        None => None,
    };
    let id = boss.id.to_string();
    let active_staff = edit(&id, "", &["is_active", "is_staff"]);

    // A password reset by `server create-staff`, in another process.
    let session = app.staff_login("boss@example.com").await;
    assert!(admits(&app, &session).await);
    reset_with_the_cli(&app, "boss@example.com");
    assert!(!admits(&app, &session).await, "the reset ends the session at once");
    if let Some(b) = &beside {
        let gone = eventually(std::time::Duration::from_secs(1), || async { !admits(b, &session).await }).await;
        assert!(gone, "and on the other instance within 1 s");
    }
    let new_password = format!("{PASSWORD} again");

    // A deactivation, then a reactivation, through the admin.
    let session = log_in_again(&app, &new_password).await;
    let deactivate = edit(&id, "", &["is_staff"]);
    assert_eq!(app.admin_post("/api/admin/user-update", Some(&root), &deactivate).await.status(), StatusCode::OK);
    assert!(!admits(&app, &session).await, "deactivation ends it");
    if let Some(b) = &beside {
        assert!(eventually(std::time::Duration::from_secs(1), || async { !admits(b, &session).await }).await);
    }
    assert_eq!(app.admin_post("/api/admin/user-update", Some(&root), &active_staff).await.status(), StatusCode::OK);
    assert!(!admits(&app, &session).await, "reactivating does not revive it");

    // A demotion, then a promotion.
    let session = log_in_again(&app, &new_password).await;
    let demote = edit(&id, "", &["is_active"]);
    assert_eq!(app.admin_post("/api/admin/user-update", Some(&root), &demote).await.status(), StatusCode::OK);
    assert!(!admits(&app, &session).await, "demotion ends it");
    if let Some(b) = &beside {
        assert!(eventually(std::time::Duration::from_secs(1), || async { !admits(b, &session).await }).await);
    }
    assert_eq!(app.admin_post("/api/admin/user-update", Some(&root), &active_staff).await.status(), StatusCode::OK);
    assert!(!admits(&app, &session).await, "promoting again does not revive it");
    assert!(admits(&app, &log_in_again(&app, &new_password).await).await, "a new login works");
}

async fn a_superuser_adds_staff_and_resets_passwords_in_the_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("root@example.com", true).await;
    app.create_staff("plain@example.com", false).await;
    let root = app.staff_login("root@example.com").await;
    let plain = app.staff_login("plain@example.com").await;
    let new_pw = "a brand new password";
    let form = |email: &'static str, pw: &'static str, again: &'static str| {
        vec![("email", email), ("password", pw), ("password_confirm", again)]
    };

    let res = app.admin_post("/api/admin/staff-create", Some(&plain), &form("new@example.com", new_pw, new_pw)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "plain staff add no one");
    for (bad, field) in [
        (form("not an email", new_pw, new_pw), "email"),
        (form("new@example.com", "too short", "too short"), "password"),
        (form("new@example.com", new_pw, "something else entirely"), "password_confirm"),
        (form("plain@example.com", new_pw, new_pw), "email"),
    ] {
        let res = app.admin_post("/api/admin/staff-create", Some(&root), &bad).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body = res.text().await.expect("body");
        assert!(body.contains(field), "{field}: {body}");
    }
    assert_eq!(backend::db::staff_accounts::find_id_by_email(&app.db, "new@example.com").await.expect("q"), None);

    let res = app.admin_post("/api/admin/staff-create", Some(&root), &form("new@example.com", new_pw, new_pw)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let created = app.staff_login_with("new@example.com", new_pw, None).await;
    assert_eq!(created.status(), StatusCode::OK, "the new account logs in");
    let new_session = StaffCookie(server_session_cookie(&created).expect("cookie"));
    let new_id =
        backend::db::staff_accounts::find_id_by_email(&app.db, "new@example.com").await.expect("q").expect("id");

    let id = new_id.to_string();
    let reset = [("id", id.as_str()), ("password", "the reset password"), ("password_confirm", "the reset password")];
    let res = app.admin_post("/api/admin/staff-reset-password", Some(&plain), &reset).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "plain staff reset no one");
    let res = app.admin_post("/api/admin/staff-reset-password", Some(&root), &reset).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!admits(&app, &new_session).await, "the reset ends the account's sessions");
    assert_eq!(app.staff_login_with("new@example.com", new_pw, None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.staff_login_with("new@example.com", "the reset password", None).await.status(), StatusCode::OK);

    let actions: Vec<String> =
        audit_log::list(&app.db, 1).await.expect("audit").items.into_iter().map(|e| e.action).collect();
    assert!(
        actions.contains(&"staff.create".to_owned()) && actions.contains(&"staff.password_reset".to_owned()),
        "{actions:?}"
    );
    let entries = audit_log::for_object(&app.db, "user", &new_id.to_string(), 10).await.expect("audit");
    assert!(entries.iter().all(|e| !e.changes.0.to_string().contains(new_pw)), "no password in the audit log");
}

async fn staff_change_their_own_password_which_ends_their_other_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("boss@example.com", false).await;
    let here = app.staff_login("boss@example.com").await;
    let elsewhere = app.staff_login("boss@example.com").await;
    let change = |current: &'static str| {
        vec![("current_password", current), ("password", "my new password!"), ("password_confirm", "my new password!")]
    };
    let wrong = app.admin_post("/api/admin/staff-change-password", Some(&here), &change(WRONG)).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().await.expect("body").contains("current_password"));
    assert!(admits(&app, &elsewhere).await, "a failed change changes nothing");

    let ok = app.admin_post("/api/admin/staff-change-password", Some(&here), &change(PASSWORD)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let renewed = StaffCookie(server_session_cookie(&ok).expect("this session carries on, under a new id"));
    assert!(admits(&app, &renewed).await, "this session carries on");
    assert!(!admits(&app, &elsewhere).await, "the other session ended");
    assert!(!admits(&app, &here).await, "the old id is gone");
    assert_eq!(app.staff_login_with("boss@example.com", "my new password!", None).await.status(), StatusCode::OK);

    // Wrong current passwords count like failed logins.
    for _ in 0..5 {
        let res = app.admin_post("/api/admin/staff-change-password", Some(&renewed), &change(WRONG)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let throttled = app.admin_post("/api/admin/staff-change-password", Some(&renewed), &change(WRONG)).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
}
