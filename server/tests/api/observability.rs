//! Operations: `/metrics` on `METRICS_ADDR` (parsed with a real Prometheus text-format parser)
//! moving as known requests say, a closed label set whatever paths arrive, and `x-request-id`
//! echoed and carried by the request's JSON log line. The real binary, as production runs it:
//! the metrics recorder and the log format are process-wide.

use crate::common;

use std::collections::BTreeSet;

use common::process::ServerProcess;
use fake_clerk::TEST_WEBHOOK_SECRET;
use reqwest::StatusCode;
use serde_json::Value;

struct Metrics(Vec<prometheus_parse::Sample>);

impl Metrics {
    async fn scrape(client: &reqwest::Client, url: &str) -> Self {
        let res = client.get(url).send().await.expect("scrape");
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.expect("body");
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        Self(prometheus_parse::Scrape::parse(lines).expect("the Prometheus text format").samples)
    }

    /// The sum of `name`'s counters whose labels include `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
                prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    }

    /// Every value `label` takes on `name`.
    fn label_values(&self, name: &str, label: &str) -> BTreeSet<String> {
        self.0.iter().filter(|s| s.metric == name).filter_map(|s| s.labels.get(label).map(str::to_owned)).collect()
    }

    fn series(&self, name: &str) -> usize {
        self.0.iter().filter(|s| s.metric == name).count()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_requests_and_request_ids_reach_the_json_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/app.db", dir.path().display());
    let log = dir.path().join("server.log");
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let env = [
        ("METRICS_ADDR", metrics_addr.as_str()),
        ("LOG_FORMAT", "json"),
        ("RUST_LOG", "info,web::observe=debug"),
        ("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET),
    ];
    let server = ServerProcess::start_with_log(&url, &env, Some(&log)).await;
    let scrape_url = format!("http://{metrics_addr}/metrics");
    let scrape = || Metrics::scrape(&server.client, &scrape_url);
    assert_eq!(server.get("/metrics").await.status(), StatusCode::NOT_FOUND, "never on the public address");

    // Dev mode (a debug build, no Clerk keys): a real session token.
    let signed_in = server
        .client
        .post(server.url("/api/session/dev-sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("referer", server.url("/sign-in"))
        .body("email=ada%40example.com&first_name=Ada&last_name=Lovelace&org_name=&org_role=admin")
        .send()
        .await
        .expect("dev sign-in");
    let token = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("__session=").and_then(|v| v.split(';').next()).filter(|v| !v.is_empty()))
        .expect("a session token")
        .to_owned();

    let before = scrape().await;
    let me = server
        .client
        .get(server.url("/api/me"))
        .header("authorization", format!("Bearer {token}"))
        .header("x-request-id", "obs-test-1")
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("obs-test-1"));
    let failed_login = server.staff_login_with("nobody@example.com", "wrong password", None).await;
    assert_eq!(failed_login.status(), StatusCode::UNAUTHORIZED);
    let user = fake_clerk::user("user_obs", "obs@example.com", "O", "B");
    let delivery = fake_clerk::webhook(TEST_WEBHOOK_SECRET, "msg_obs_1", "user.created", &user);
    assert_eq!(server.post_webhook(&delivery).await.0, StatusCode::OK);
    let mut forged = fake_clerk::webhook(TEST_WEBHOOK_SECRET, "msg_obs_2", "user.created", &user);
    forged.signature = "v1,bm90IGEgc2lnbmF0dXJl".into();
    assert_eq!(server.post_webhook(&forged).await.0, StatusCode::BAD_REQUEST);

    let after = scrape().await;
    let moved = |name: &str, labels: &[(&str, &str)]| after.value(name, labels) - before.value(name, labels);
    assert_eq!(moved("auth_token_verifications_total", &[("kind", "session_token"), ("outcome", "ok")]), 1.0);
    assert_eq!(moved("http_requests_total", &[("route", "/api/me"), ("method", "GET"), ("status", "200")]), 1.0);
    assert_eq!(moved("staff_login_attempts_total", &[("outcome", "invalid")]), 1.0);
    let processed = [("event_type", "user.created"), ("outcome", "processed")];
    assert_eq!(moved("webhook_deliveries_total", &processed), 1.0);
    assert_eq!(moved("webhook_deliveries_total", &[("event_type", "unverified"), ("outcome", "refused")]), 1.0);
    assert!(after.value("cache_lookups_total", &[("cache", "user")]) >= 1.0);
    assert!(after.value("db_pool_max_connections", &[]) >= 2.0, "pool gauges are read when scraped");
    assert!(
        after.series("http_request_duration_seconds_count") > 0 || after.series("http_request_duration_seconds") > 0
    );

    // 1,000 requests to made-up paths add one label value at most: the 404 route's.
    let routes_before = after.label_values("http_requests_total", "route");
    let series_before = after.series("http_requests_total");
    for i in 0..1_000u32 {
        let path = match i % 4 {
            0 => format!("/made-up-{i}"),
            1 => format!("/api/made/up/{i}"),
            2 => format!("/files/nothing-{i}.txt"),
            _ => format!("/{i}/{}", i * 7),
        };
        assert_eq!(server.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let flooded = scrape().await;
    let new: BTreeSet<String> =
        flooded.label_values("http_requests_total", "route").difference(&routes_before).cloned().collect();
    assert!(new.iter().all(|r| r == "fallback"), "new route labels: {new:?}");
    assert!(flooded.series("http_requests_total") <= series_before + 1, "one new series at most");
    assert!(flooded.value("http_requests_total", &[("route", "fallback"), ("status", "404")]) >= 1_000.0);

    // A made-up id too long to be one is replaced, not echoed.
    let res = server.client.get(server.url("/healthz")).header("x-request-id", "x".repeat(200)).send().await;
    let id = res.expect("healthz").headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert!(id.as_deref().is_some_and(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())), "{id:?}");

    // The JSON log: one object per line; `/api/me`'s names its request id and user, never the token.
    let text = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("a JSON object per line")).collect();
    let mine = lines.iter().find(|l| l["span"]["request_id"] == "obs-test-1").expect("the request's line");
    assert_eq!(mine["span"]["route"], "/api/me", "{mine}");
    assert_eq!(mine["span"]["user_id"], backend::devmode::dev_id("user", "ada@example.com"), "{mine}");
    assert!(!text.contains(&token), "tokens never reach the log");
    assert!(!text.contains("ada@example.com"), "nor emails");
}
