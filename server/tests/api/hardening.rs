//! What a hostile request or a slow Clerk cannot do: plant a session id, fill the disk through
//! the login form, spoof its IP, or stall every write by hanging one fetch; and the security
//! headers every answer carries.

use crate::common;

use std::time::{Duration, Instant};

use backend::on_pool;
use common::{TestApp, server_session_cookie};
use fake_clerk::{FakeClerk, Fault, TEST_WEBHOOK_SECRET, session_claims};
use reqwest::StatusCode;
use serde_json::Value;
use testkit::Backend;

testkit::each_backend!(
    backend:
    a_planted_session_id_never_signs_its_planter_in_as_the_victim,
    a_300_kb_email_at_the_staff_login_stores_and_logs_nothing_long,
    a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing,
    while_clerk_hangs_on_one_members_user_other_deliveries_and_a_staff_login_answer_within_2_s,
    an_invitation_to_an_organization_not_mirrored_yet_fetches_it_and_is_kept,
);

async fn clerk_id(res: reqwest::Response) -> Option<String> {
    if res.status() != StatusCode::OK {
        return None;
    }
    res.json::<Value>().await.ok()?["clerk_id"].as_str().map(str::to_owned)
}

async fn a_planted_session_id_never_signs_its_planter_in_as_the_victim(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_victim", "victim@example.com", "Vic", "Tim"));
    let app = TestApp::with_clerk(backend, &clerk, &[]).await;

    // The planter holds a real session of the server's with no Clerk record in it (a staff
    // login here), and plants its id in the victim's browser.
    app.create_staff("planter@example.com", false).await;
    let planted = app.staff_login("planter@example.com").await.0;

    // The victim signs in with that cookie planted.
    let token = clerk.mint(&session_claims("user_victim"));
    let res = app.me_cookie(&format!("__session={token}; {planted}")).await;
    let cycled = server_session_cookie(&res);
    assert_eq!(clerk_id(res).await.as_deref(), Some("user_victim"));
    let cycled = cycled.expect("the record is written under a new session id");
    assert_ne!(cycled, planted, "the planted id was cycled");

    // The planter, with the planted id and a signed-in __client_uat, is not the victim.
    let res = app.me_cookie(&planted).await;
    assert_ne!(clerk_id(res).await.as_deref(), Some("user_victim"), "the planted id does not stand for the victim");
    // The victim's own new id does.
    let res = app.me_cookie(&cycled).await;
    assert_eq!(clerk_id(res).await.as_deref(), Some("user_victim"));
}

async fn a_300_kb_email_at_the_staff_login_stores_and_logs_nothing_long(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = format!("{}@example.com", "a".repeat(300 * 1024));
    let long_password = "p".repeat(4096);
    for (email, password) in [(email.as_str(), "whatever"), ("boss@example.com", long_password.as_str())] {
        let res = app.staff_login_with(email, password, None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "refused as wrong credentials");
    }
    let longest: Option<i64> = on_pool!(&app.db, pool => sqlx::query_scalar(
        "SELECT MAX(LENGTH(email)) FROM login_attempts").fetch_one(pool).await)
    .expect("query");
    assert!(longest.unwrap_or(0) <= 254, "nothing long was stored: {longest:?}");
}

/// The same through the real binary, with its log at `info`: no line carries the long value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_300_kb_email_at_the_staff_login_is_not_logged() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("server.log");
    let url = format!("sqlite://{}/app.db", dir.path().display());
    let server = common::process::ServerProcess::start_with_log(&url, &[("RUST_LOG", "info")], Some(&log)).await;
    let email = format!("{}@example.com", "a".repeat(300 * 1024));
    let res = server.staff_login_with(&email, "whatever", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let written = std::fs::read_to_string(&log).expect("the log");
    assert!(written.lines().count() > 0, "the server logged at info");
    let longest = written.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 2000 && !written.contains(&"a".repeat(300)), "a log line of {longest} bytes");
}

async fn a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing(backend: Backend) {
    // The test client connects from 127.0.0.1, which this configuration does not trust.
    let app = TestApp::spawn_with(backend, &[("TRUST_PROXY_HEADERS", "true"), ("TRUSTED_PROXIES", "10.0.0.0/8")]).await;
    app.create_staff("boss@example.com", false).await;
    // Twenty failures, each claiming another address: all count against the real peer.
    for i in 0..20 {
        let res = app
            .client
            .post(app.url("/admin/login"))
            .header("origin", &app.base)
            .header("accept", "application/json")
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .form(&[("email", format!("nobody{i}@example.com").as_str()), ("password", "wrong"), ("next", "")])
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let clients: Vec<String> = on_pool!(&app.db, pool => sqlx::query_scalar(
        "SELECT DISTINCT ip FROM login_attempts").fetch_all(pool).await)
    .expect("query");
    assert_eq!(clients, vec!["127.0.0.1".to_owned()], "the header chose nothing");
    // The peer is now throttled, whatever address it claims next.
    let res = app
        .client
        .post(app.url("/admin/login"))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .header("x-forwarded-for", "203.0.113.77")
        .form(&[("email", "boss@example.com"), ("password", common::staff::PASSWORD), ("next", "")])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn while_clerk_hangs_on_one_members_user_other_deliveries_and_a_staff_login_answer_within_2_s(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;
    app.create_staff("boss@example.com", false).await;
    let org = fake_clerk::organization("org_1", "Org", "org");
    let stranger = fake_clerk::user("user_stranger", "stranger@example.com", "S", "T");
    clerk.put_user(stranger.clone());
    clerk.fail("/v1/users/user_stranger", Fault::Hang);

    // The membership's user is fetched before the writer: while Clerk hangs, that one waits.
    let membership = fake_clerk::membership("orgmem_1", &org, &stranger, "org:member");
    let http = common::Http::new(app.base.clone());
    let hanging = tokio::spawn(async move { http.deliver("organizationMembership.created", &membership).await });
    let fetching =
        common::eventually(Duration::from_secs(5), || async { !clerk.requests("/v1/users/user_stranger").is_empty() })
            .await;
    assert!(fetching, "the delivery is waiting on Clerk");

    let started = Instant::now();
    for i in 0..5 {
        let user = fake_clerk::user(&format!("user_{i}"), &format!("u{i}@example.com"), "U", "Ser");
        let (status, _) = app.deliver("user.created", &user).await;
        assert_eq!(status, StatusCode::OK);
    }
    app.staff_login("boss@example.com").await;
    assert!(started.elapsed() < Duration::from_secs(2), "writes went on: {:?}", started.elapsed());

    // The hung fetch times out on its own and the delivery is refused for Svix to retry,
    // having written nothing.
    let (status, _) = hanging.await.expect("the delivery answers");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    clerk.clear_faults();
    let membership = fake_clerk::membership("orgmem_1", &org, &stranger, "org:member");
    let (status, body) = app.deliver("organizationMembership.created", &membership).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("processed")), "the retry applies");
}

async fn an_invitation_to_an_organization_not_mirrored_yet_fetches_it_and_is_kept(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;
    clerk.put_organization(fake_clerk::organization("org_new", "New Org", "new-org"));
    let invitation = serde_json::json!({
        "object": "organization_invitation", "id": "orginv_1", "organization_id": "org_new",
        "email_address": "guest@example.com", "role": "org:member", "status": "pending",
        "public_metadata": {}, "created_at": 1_700_000_000_000i64, "updated_at": 1_700_000_000_000i64
    });
    let (status, body) = app.deliver("organizationInvitation.created", &invitation).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("processed")));
    let stored: Option<String> = on_pool!(&app.db, pool => sqlx::query_scalar(
        "SELECT i.email_address FROM organization_invitations i JOIN organizations o ON o.id = i.organization_id \
         WHERE o.clerk_id = 'org_new'").fetch_optional(pool).await)
    .expect("query");
    assert_eq!(stored.as_deref(), Some("guest@example.com"));

    // An organization Clerk no longer has: nothing to attach it to, recorded as ignored.
    let mut gone = invitation.clone();
    gone["id"] = "orginv_2".into();
    gone["organization_id"] = "org_gone".into();
    let (status, body) = app.deliver("organizationInvitation.created", &gone).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ignored")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_answers_carry_a_csp_whose_nonce_is_on_every_script_and_the_other_headers() {
    let clerk = FakeClerk::start().await;
    let app = TestApp::with_clerk(Backend::Sqlite, &clerk, &[]).await;
    let mut nonces = Vec::new();
    for path in ["/", "/admin/login", "/no-such-page"] {
        let res = app.get(path).await;
        let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let csp = header("content-security-policy");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "strict-origin-when-cross-origin", "{path}");
        assert!(header("permissions-policy").contains("camera=()"), "{path}");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{path}: {csp}");
        let script_src = csp.split("script-src").nth(1).and_then(|d| d.split(';').next()).unwrap_or_default();
        assert!(!script_src.contains("unsafe-inline"), "inline scripts need the nonce: {csp}");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce in script-src")
            .to_owned();
        let html = res.text().await.expect("html");
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path} has scripts");
        let inline_with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
        let with_src = html
            .split("<script")
            .skip(1)
            .filter(|tag| tag.split('>').next().is_some_and(|t| t.contains(" src=")))
            .count();
        assert_eq!(inline_with_nonce + with_src, scripts, "{path}: every inline script carries the nonce");
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a fresh nonce per answer");
    // Not HTML: the same headers, no policy needed.
    let res = app.get("/healthz").await;
    assert_eq!(res.headers().get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_checked_at_most_once_a_second_however_many_ask() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let path = app.db_url.as_str().trim_start_matches("sqlite://").to_owned();
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    let checked = Instant::now();
    // A burst within the second is served the answer just computed.
    let answers = futures::future::join_all((0..200).map(|_| app.get("/readyz"))).await;
    assert!(answers.iter().all(|r| r.status() == StatusCode::OK));
    // Overwritten underneath: an answer less than a second old still says ready, and the next
    // fresh check says no.
    std::fs::write(&path, b"not a database at all, just bytes written over the file").expect("overwrite");
    let sent = Instant::now();
    let cached = app.get("/readyz").await.status();
    if sent.duration_since(checked) < Duration::from_millis(800) {
        assert_eq!(cached, StatusCode::OK, "served from the cache");
    }
    let unready = common::eventually(Duration::from_secs(3), || async {
        app.get("/readyz").await.status() == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    assert!(unready, "a fresh check ran within the bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impersonated_superuser_may_not_export_and_a_real_export_is_audited() {
    let clerk = FakeClerk::start().await;
    let app = TestApp::with_clerk(Backend::Sqlite, &clerk, &[]).await;
    let boss = app.mirror(&fake_clerk::user("user_boss", "boss@example.com", "Bo", "Ss")).await;
    let target = app.mirror(&fake_clerk::user("user_target", "target@example.com", "Tar", "Get")).await;
    backend::on_writer!(&app.db, pool => sqlx::query("UPDATE users SET is_staff = TRUE, is_superuser = TRUE WHERE id = $1")
        .bind(boss.id).execute(pool).await.map(|_| ()))
    .expect("promote");
    let export = |token: String| {
        let url = app.url(&format!("/admin/users/{}/export", target.id));
        let client = app.client.clone();
        async move { client.get(url).bearer_auth(token).send().await.expect("request").status() }
    };
    let mut impersonated = session_claims("user_boss");
    impersonated["act"] = serde_json::json!({ "sub": "user_support_agent" });
    assert_eq!(export(clerk.mint(&impersonated)).await, StatusCode::FORBIDDEN, "no superuser powers when impersonated");
    let audited = || async {
        on_pool!(&app.db, pool => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'user.export' AND object_id = $1")
            .bind(target.id.to_string()).fetch_one(pool).await)
        .expect("count")
    };
    assert_eq!(audited().await, 0);
    assert_eq!(export(clerk.mint(&session_claims("user_boss"))).await, StatusCode::OK);
    assert_eq!(audited().await, 1, "the download is in the audit log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secure_session_cookie_is_host_prefixed_and_its_removal_is_secure_too() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("COOKIE_SECURE", "true")]).await;
    app.create_staff("boss@example.com", false).await;
    let res = app.staff_login_with("boss@example.com", common::staff::PASSWORD, None).await;
    let set = |res: &reqwest::Response| -> Vec<String> {
        res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    };
    let login = set(&res);
    let cookie = login.iter().find(|c| c.starts_with("__Host-starter_session=")).expect("a __Host- cookie").clone();
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
    let pair = cookie.split(';').next().unwrap_or_default().to_owned();
    let res = app
        .client
        .post(app.url("/admin/logout"))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .header("cookie", &pair)
        .send()
        .await
        .expect("logout");
    let removal = set(&res).into_iter().find(|c| c.starts_with("__Host-starter_session=")).expect("a removal cookie");
    // Without Secure a browser ignores it, and the dead session's id would stay in the jar.
    assert!(removal.contains("Secure") && removal.contains("Max-Age=0"), "{removal}");
}

/// A verified token stays in memory only as long as it is valid: a cache that kept each for an
/// hour grew by every token browsers refreshed (the soak found it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_token_leaves_the_cache_when_it_expires() {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_brief", "brief@example.com", "Bri", "Ef"));
    let app = TestApp::with_clerk(Backend::Sqlite, &clerk, &[("CLERK_CLOCK_SKEW_SECONDS", "0")]).await;
    let mut claims = session_claims("user_brief");
    claims["exp"] = serde_json::json!(fake_clerk::now_secs() + 2);
    assert_eq!(app.me_bearer(&clerk.mint(&claims)).await.status(), StatusCode::OK);
    assert_eq!(app.auth.verifier.cached_tokens(), 1);
    let gone = common::eventually(Duration::from_secs(6), || async { app.auth.verifier.cached_tokens() == 0 }).await;
    assert!(gone, "the entry left with its token");
}
