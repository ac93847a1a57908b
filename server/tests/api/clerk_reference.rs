//! The server against Clerk's own code: every request below goes both to this server's
//! `/api/me` and to `authenticateRequest` of the pinned `@clerk/backend` (run by Node, offline,
//! with the same instance key and authorized parties), and the two verdicts must agree on
//! whether anyone is signed in, who, and in which organization.
//!
//! The requests carry no server session: that is this starter's stand-in for Clerk's handshake
//! (a redirect through the Frontend API), the one place the two may differ, and
//! `auth_sessions.rs` tests it on its own.

use crate::common;

use std::{io::Write, path::Path, process::Stdio};

use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use common::TestApp;
use fake_clerk::{FakeClerk, now_secs, session_claims};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(
    backend:
    the_server_and_clerks_authenticate_request_agree_on_every_request,
    step_up_reverification_agrees_with_clerks_has_for_every_preset,
    machine_tokens_agree_with_clerk_for_every_accepted_kind,
    plans_agree_with_clerks_has,
);

const PRESETS: [&str; 4] = ["strict", "moderate", "lax", "strict_mfa"];

const AZP: &str = "http://localhost:3000";
const REFERENCE: &str = "tests/clerk-reference";
/// The `iss` of `fake_clerk::session_claims`, without its scheme.
const ISSUER_HOST: &str = "fake.clerk.accounts.dev";

/// One request: a label for the failure message, its headers, and what the route accepts
/// (Clerk's `acceptsToken`; `None` is its default, session tokens).
struct Case {
    label: String,
    headers: Vec<(&'static str, String)>,
    accepts: Option<Value>,
}

#[derive(Debug, PartialEq)]
struct Verdict {
    signed_in: bool,
    user_id: Option<String>,
    org_id: Option<String>,
}

/// The tokens: every shape a verifier must tell apart, good and bad.
fn tokens(clerk: &FakeClerk) -> Vec<(&'static str, String)> {
    let key = clerk.key();
    let now = now_secs();
    let claims = |edit: &dyn Fn(&mut Value)| {
        let mut claims = session_claims("user_alice");
        edit(&mut claims);
        claims
    };
    let header = |extra: Value| {
        let mut header = json!({ "alg": "RS256", "kid": key.kid, "typ": "JWT", "cat": "cl_B7d4PD111AAA" });
        for (k, v) in extra.as_object().into_iter().flatten() {
            if let Some(h) = header.as_object_mut() {
                match v {
                    Value::Null => h.remove(k),
                    v => h.insert(k.clone(), v.clone()),
                };
            }
        }
        header
    };
    let signed = |extra: Value, claims: Value| key.sign_with_header(&header(extra), &claims);
    let alg = |alg: Algorithm, name: &str| key.sign_with_alg(alg, &header(json!({ "alg": name })), &claims(&|_| {}));
    let org_v2 = json!({ "id": "org_acme", "slg": "acme", "rol": "admin", "per": "", "fpm": "" });
    vec![
        ("valid", key.sign(&claims(&|_| {}))),
        ("valid, v2 organization", key.sign(&claims(&|c| c["o"] = org_v2.clone()))),
        (
            "valid, v1 organization",
            key.sign(&claims(&|c| {
                c.as_object_mut().map(|c| c.remove("v"));
                c["org_id"] = json!("org_v1");
                c["org_role"] = json!("org:member");
            })),
        ),
        ("another user", key.sign(&session_claims("user_bob"))),
        (
            "expired",
            key.sign(&claims(&|c| {
                c["iat"] = json!(now - 200);
                c["nbf"] = json!(now - 210);
                c["exp"] = json!(now - 100);
            })),
        ),
        ("not valid yet", key.sign(&claims(&|c| c["nbf"] = json!(now + 120)))),
        ("issued in the future", key.sign(&claims(&|c| c["iat"] = json!(now + 120)))),
        (
            "no exp",
            key.sign(&claims(&|c| {
                c.as_object_mut().map(|c| c.remove("exp"));
            })),
        ),
        ("exp as text", key.sign(&claims(&|c| c["exp"] = json!((now + 60).to_string())))),
        (
            "no sub",
            key.sign(&claims(&|c| {
                c.as_object_mut().map(|c| c.remove("sub"));
            })),
        ),
        ("sub a number", key.sign(&claims(&|c| c["sub"] = json!(42)))),
        ("machine subject", key.sign(&claims(&|c| c["sub"] = json!("mch_robot")))),
        (
            "no sid",
            key.sign(&claims(&|c| {
                c.as_object_mut().map(|c| c.remove("sid"));
            })),
        ),
        ("pending session", key.sign(&claims(&|c| c["sts"] = json!("pending")))),
        ("active session", key.sign(&claims(&|c| c["sts"] = json!("active")))),
        (
            "no azp",
            key.sign(&claims(&|c| {
                c.as_object_mut().map(|c| c.remove("azp"));
            })),
        ),
        ("foreign azp", key.sign(&claims(&|c| c["azp"] = json!("https://evil.example")))),
        ("machine category", signed(json!({ "cat": "cl_B7d4PD333AAA" }), claims(&|_| {}))),
        ("JWT-template category", signed(json!({ "cat": "cl_B7d4PD222AAA" }), claims(&|_| {}))),
        ("ignore category", signed(json!({ "cat": "cl_I7d4PD111III" }), claims(&|_| {}))),
        ("no category", signed(json!({ "cat": null }), claims(&|_| {}))),
        ("no typ", signed(json!({ "typ": null }), claims(&|_| {}))),
        ("OAuth access token typ", signed(json!({ "typ": "at+jwt" }), claims(&|_| {}))),
        // Clerk's verifier names RS384 and RS512, but its keys are RS256 JWKs, so they fail.
        ("RS384", alg(Algorithm::RS384, "RS384")),
        ("RS512", alg(Algorithm::RS512, "RS512")),
        ("HS256", signed(json!({ "alg": "HS256" }), claims(&|_| {}))),
        ("foreign key", fake_clerk::foreign_key().sign(&claims(&|_| {}))),
        ("malformed", "not-a-token".to_owned()),
        ("three garbage parts", "a.b.c".to_owned()),
    ]
}

/// Each token by header and by cookie (with an older `__client_uat`, as ClerkJS leaves it), and
/// the valid one under every carrier rule Clerk has.
fn cases(clerk: &FakeClerk) -> Vec<Case> {
    let mut cases = Vec::new();
    let case = |label: String, headers: Vec<(&'static str, String)>| Case { label, headers, accepts: None };
    let tokens = tokens(clerk);
    for (name, token) in &tokens {
        cases.push(case(format!("{name} (Bearer)"), vec![("authorization", format!("Bearer {token}"))]));
        cases.push(case(
            format!("{name} (cookie)"),
            vec![("cookie", format!("__session={token}; __client_uat=1700000000"))],
        ));
    }
    let valid = &tokens[0].1;
    let iat = backend::clerk::verify::unverified_iat(valid).expect("an iat");
    let cookie = |rest: &str| vec![("cookie", format!("__session={valid}{rest}"))];
    for (label, headers) in [
        ("cookie without __client_uat", cookie("")),
        ("cookie, __client_uat=0", cookie("; __client_uat=0")),
        ("cookie, __client_uat not a number", cookie("; __client_uat=soon")),
        ("cookie, __client_uat a number and more", cookie("; __client_uat=1700000000abc")),
        ("cookie, __client_uat a fraction", cookie("; __client_uat=1700000000.9")),
        ("cookie, __client_uat negative", cookie("; __client_uat=-5")),
        ("cookie, __client_uat = iat", cookie(&format!("; __client_uat={iat}"))),
        ("cookie, __client_uat after iat", cookie(&format!("; __client_uat={}", iat + 30))),
        ("cookie among others", vec![("cookie", format!("a=1; __session={valid}; __client_uat=1700000000; b=2"))]),
        ("bare token in Authorization", vec![("authorization", valid.clone())]),
        (
            "lowercase bearer, valid cookie",
            vec![
                ("authorization", format!("bearer {valid}")),
                ("cookie", format!("__session={valid}; __client_uat=1700000000")),
            ],
        ),
        (
            "Basic scheme, valid cookie",
            vec![
                ("authorization", format!("Basic {}", STANDARD_NO_PAD.encode("a:b"))),
                ("cookie", format!("__session={valid}; __client_uat=1700000000")),
            ],
        ),
        (
            "bad Bearer, valid cookie (the header decides)",
            vec![
                ("authorization", "Bearer a.b.c".to_owned()),
                ("cookie", format!("__session={valid}; __client_uat=1700000000")),
            ],
        ),
        (
            "valid Bearer, bad cookie",
            vec![
                ("authorization", format!("Bearer {valid}")),
                ("cookie", "__session=a.b.c; __client_uat=1".to_owned()),
            ],
        ),
        ("no token", vec![]),
        ("only __client_uat", vec![("cookie", "__client_uat=1700000000".to_owned())]),
        ("empty Bearer", vec![("authorization", "Bearer ".to_owned())]),
    ] {
        cases.push(case(label.to_owned(), headers));
    }
    cases
}

/// Fails listing every difference between the two verdicts.
fn assert_agree(differences: &[String], of: usize) {
    assert!(differences.is_empty(), "{} of {of} checks differ:\n{}", differences.len(), differences.join("\n"));
}

async fn ours(app: &TestApp, case: &Case) -> Verdict {
    let mut req = app.client.get(app.url("/api/me")).header("accept", "application/json");
    for (name, value) in &case.headers {
        req = req.header(*name, value);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success() || status.is_client_error(), "{}: {status} {body}", case.label);
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Verdict {
        signed_in: status.is_success(),
        user_id: status.is_success().then(|| text(&body["clerk_id"])).flatten(),
        org_id: status.is_success().then(|| text(&body["org"]["id"])).flatten(),
    }
}

/// Clerk's verdicts, one per case, with Clerk's status and reason for the failure message.
fn clerks(clerk: &FakeClerk, app: &TestApp, cases: &[Case]) -> Vec<(Verdict, String)> {
    clerk_answers(clerk, app, cases)
        .iter()
        .map(|v| {
            let text = |v: &Value| v.as_str().map(str::to_owned);
            let verdict =
                Verdict { signed_in: v["signedIn"] == true, user_id: text(&v["userId"]), org_id: text(&v["orgId"]) };
            (verdict, format!("{} {}", v["status"], v["reason"]))
        })
        .collect()
}

/// What `verdicts.mjs` answers for each case, as JSON.
fn clerk_answers(clerk: &FakeClerk, app: &TestApp, cases: &[Case]) -> Vec<Value> {
    clerk_answers_with(clerk, app, cases, json!({}))
}

/// [`clerk_answers`], with more for `verdicts.mjs` to ask (`plans`, `features`).
fn clerk_answers_with(clerk: &FakeClerk, app: &TestApp, cases: &[Case], ask: Value) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(REFERENCE);
    assert!(
        dir.join("node_modules/@clerk/backend").is_dir(),
        "@clerk/backend is not installed: run scripts/setup-test.sh (make test does)"
    );
    let input = json!({
        "pem": clerk.key().public_pem,
        // A production key (pk_live_; a development one also wants ClerkJS's dev-browser cookie)
        // for the instance that issues the tokens: Clerk reads the unsuffixed `__session` only
        // for a token whose `iss` is its own Frontend API.
        "publishableKey": format!("pk_live_{}", STANDARD_NO_PAD.encode(format!("{ISSUER_HOST}$"))),
        "secretKey": FakeClerk::SECRET_KEY,
        "apiUrl": clerk.api_url(),
        "authorizedParties": [AZP],
        "url": app.url("/api/me"),
        "cases": cases
            .iter()
            .map(|c| match &c.accepts {
                Some(accepts) => json!({ "headers": c.headers.to_vec(), "acceptsToken": accepts }),
                None => json!({ "headers": c.headers.to_vec() }),
            })
            .collect::<Vec<_>>(),
        "plans": ask["plans"],
        "features": ask["features"],
    });
    let mut node = std::process::Command::new("node")
        .arg("verdicts.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    node.stdin.take().expect("stdin").write_all(input.to_string().as_bytes()).expect("write the cases");
    let out = node.wait_with_output().expect("node finishes");
    assert!(out.status.success(), "verdicts.mjs failed: {}", out.status);
    let verdicts: Vec<Value> = serde_json::from_slice(&out.stdout).expect("a JSON array");
    assert_eq!(verdicts.len(), cases.len());
    verdicts
}

async fn the_server_and_clerks_authenticate_request_agree_on_every_request(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell"));
    clerk.put_user(fake_clerk::user("user_bob", "bob@example.com", "Bob", "Builder"));
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_AUTHORIZED_PARTIES", AZP)]).await;
    let cases = cases(&clerk);
    assert!(cases.len() >= 60, "{} requests", cases.len());
    let theirs = clerks(&clerk, &app, &cases);
    let mut differences = Vec::new();
    let mut signed_in = 0;
    for (case, (clerks, why)) in cases.iter().zip(theirs) {
        let ours = ours(&app, case).await;
        signed_in += usize::from(clerks.signed_in);
        if ours != clerks {
            differences.push(format!("{}: ours {ours:?}, Clerk's {clerks:?} ({why})", case.label));
        }
    }
    assert_agree(&differences, cases.len());
    // Both sides of the line are exercised.
    assert!(signed_in >= 10 && signed_in < cases.len() - 20, "{signed_in} of {} signed in", cases.len());
}

/// `fva` in every shape, by each of Clerk's presets: the example server function guarded by
/// `require_reverification` passes exactly when Clerk's `has({ reverification })` does, and
/// refuses with Clerk's own 403 body.
async fn step_up_reverification_agrees_with_clerks_has_for_every_preset(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell"));
    let app = TestApp::with_clerk(backend, &clerk, &[]).await;
    let fvas = [
        json!([5, -1]),
        json!([30, -1]),
        json!([30, 5]),
        json!([5, 30]),
        json!([-1, 5]),
        json!([0, 0]),
        json!([9.5, 9.9]),
        json!([2000, 2000]),
        json!([-1, -1]),
        json!([5]),
        json!(["5", 1]),
        json!([-2, 1]),
        Value::Null,
    ];
    let cases: Vec<Case> = fvas
        .iter()
        .map(|fva| {
            let mut claims = session_claims("user_alice");
            if let Some(c) = claims.as_object_mut() {
                match fva {
                    Value::Null => c.remove("fva"),
                    fva => c.insert("fva".into(), fva.clone()),
                };
            }
            Case {
                label: format!("fva {fva}"),
                headers: vec![("authorization", format!("Bearer {}", clerk.mint(&claims)))],
                accepts: None,
            }
        })
        .collect();
    let theirs = clerk_answers(&clerk, &app, &cases);
    let mut differences = Vec::new();
    let mut passed = 0;
    for (case, answer) in cases.iter().zip(&theirs) {
        assert_eq!(answer["signedIn"], true, "{}", case.label);
        for preset in PRESETS {
            let res = app
                .client
                .post(app.url("/api/examples/reverified"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .header(case.headers[0].0, &case.headers[0].1)
                .body(format!("level={preset}"))
                .send()
                .await
                .expect("request");
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let clerks = answer["reverified"][preset] == true;
            if status.is_success() != clerks {
                differences.push(format!("{} {preset}: ours {status}, Clerk's has() {clerks}", case.label));
            }
            if status.is_success() {
                passed += 1;
            } else {
                assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{} {preset}", case.label);
                let expected = json!({ "clerk_error": { "type": "forbidden", "reason": "reverification-error",
                    "metadata": { "reverification": preset } } });
                assert_eq!(body, expected, "{} {preset}: Clerk's reverification body", case.label);
            }
        }
    }
    assert_agree(&differences, cases.len() * PRESETS.len());
    assert!(passed > 5 && passed < cases.len() * PRESETS.len() - 5, "{passed} passed");
}

/// The machine tokens: each kind, good and bad, opaque (verified by the fake's Backend API, for
/// both sides) and JWT (verified locally, by both sides).
fn machine_tokens(clerk: &FakeClerk) -> Vec<(&'static str, String)> {
    let key = clerk.key();
    let now = now_secs();
    let (_, user_key) = clerk.create_api_key("user_alice", "alice's script", &["projects:read"], None);
    let (_, org_key) = clerk.create_api_key("org_acme", "acme's CI", &["projects:write"], Some(3600));
    let (revoked_id, revoked_key) = clerk.create_api_key("user_alice", "old", &[], None);
    clerk.revoke_machine_token(&revoked_id);
    let (_, expired_key) = clerk.create_api_key("user_alice", "expired", &[], Some(-10));
    let (_, m2m) = clerk.create_m2m_token("mch_robot", &["jobs:run"], Some(3600));
    let (revoked_m2m_id, revoked_m2m) = clerk.create_m2m_token("mch_robot", &[], None);
    clerk.revoke_machine_token(&revoked_m2m_id);
    let (_, oauth) = clerk.create_oauth_token("user_alice", "client_mcp", &["profile", "email"], Some(3600));
    let (revoked_oauth_id, revoked_oauth) = clerk.create_oauth_token("user_alice", "client_mcp", &[], None);
    clerk.revoke_machine_token(&revoked_oauth_id);
    let m2m_claims = |edit: &dyn Fn(&mut Value)| {
        let mut claims = json!({ "sub": "mch_robot", "scopes": "jobs:run reports:read", "jti": "mt_jwt_1",
            "iat": now, "nbf": now - 5, "exp": now + 600, "iss": "https://fake.clerk.accounts.dev", "tier": "gold" });
        edit(&mut claims);
        claims
    };
    let m2m_header = json!({ "alg": "RS256", "kid": key.kid, "typ": "JWT", "cat": fake_clerk::MACHINE_CATEGORY });
    let oauth_claims = |edit: &dyn Fn(&mut Value)| {
        let mut claims = json!({ "sub": "user_alice", "client_id": "client_mcp", "scp": ["profile"], "jti": "oat_jwt_1",
            "iat": now, "nbf": now - 5, "exp": now + 600, "iss": "https://fake.clerk.accounts.dev" });
        edit(&mut claims);
        claims
    };
    let oauth_header = |typ: &str| json!({ "alg": "RS256", "kid": key.kid, "typ": typ });
    vec![
        ("API key of a user", user_key),
        ("API key of an organization", org_key),
        ("revoked API key", revoked_key),
        ("expired API key", expired_key),
        ("unknown API key", "ak_unknown0123456789abcdef".to_owned()),
        ("API key prefix only", "ak_".to_owned()),
        ("opaque M2M token", m2m),
        ("revoked M2M token", revoked_m2m),
        ("unknown M2M token", "mt_unknown0123456789".to_owned()),
        ("opaque OAuth token", oauth),
        ("revoked OAuth token", revoked_oauth),
        ("unknown OAuth token", "oat_unknown0123456789".to_owned()),
        ("JWT M2M token", key.sign_with_header(&m2m_header, &m2m_claims(&|_| {}))),
        (
            "JWT M2M token, no category",
            key.sign_with_header(&json!({ "alg": "RS256", "kid": key.kid }), &m2m_claims(&|_| {})),
        ),
        ("JWT M2M token, session category", key.sign(&m2m_claims(&|_| {}))),
        (
            "JWT M2M token, audience as scopes",
            key.sign_with_header(
                &m2m_header,
                &m2m_claims(&|c| {
                    c.as_object_mut().map(|c| c.remove("scopes"));
                    c["aud"] = json!(["svc_a", "svc_b"]);
                }),
            ),
        ),
        (
            "expired JWT M2M token",
            key.sign_with_header(
                &m2m_header,
                &m2m_claims(&|c| {
                    c["iat"] = json!(now - 700);
                    c["nbf"] = json!(now - 700);
                    c["exp"] = json!(now - 100);
                }),
            ),
        ),
        (
            "JWT M2M token without exp",
            key.sign_with_header(
                &m2m_header,
                &m2m_claims(&|c| {
                    c.as_object_mut().map(|c| c.remove("exp"));
                }),
            ),
        ),
        ("JWT M2M token, foreign key", fake_clerk::foreign_key().sign_with_header(&m2m_header, &m2m_claims(&|_| {}))),
        ("JWT M2M token typed at+jwt", key.sign_with_header(&oauth_header("at+jwt"), &m2m_claims(&|_| {}))),
        ("JWT OAuth token", key.sign_with_header(&oauth_header("at+jwt"), &oauth_claims(&|_| {}))),
        (
            "JWT OAuth token, application/at+jwt",
            key.sign_with_header(&oauth_header("application/at+jwt"), &oauth_claims(&|_| {})),
        ),
        (
            "JWT OAuth token, scope as text",
            key.sign_with_header(
                &oauth_header("at+jwt"),
                &oauth_claims(&|c| {
                    c.as_object_mut().map(|c| c.remove("scp"));
                    c["scope"] = json!("profile email");
                }),
            ),
        ),
        (
            "expired JWT OAuth token",
            key.sign_with_header(
                &oauth_header("at+jwt"),
                &oauth_claims(&|c| {
                    c["iat"] = json!(now - 700);
                    c["exp"] = json!(now - 100);
                }),
            ),
        ),
        (
            "JWT OAuth token, foreign key",
            fake_clerk::foreign_key().sign_with_header(&oauth_header("at+jwt"), &oauth_claims(&|_| {})),
        ),
        ("session token", key.sign(&session_claims("user_alice"))),
        ("garbage", "a.b.c".to_owned()),
    ]
}

/// Where this server asks what Clerk's `acceptsToken` asks: `/api/me` takes session tokens only,
/// `/api/whoami` any kind, `/api/examples/machine` the three machine kinds (a 403 there, for a
/// missing scope, is still an authenticated caller).
const ROUTES: [(&str, Option<&str>); 3] =
    [("/api/me", None), ("/api/whoami", Some("any")), ("/api/examples/machine", Some("machine"))];

#[derive(Debug, PartialEq)]
struct MachineVerdict {
    signed_in: bool,
    token_type: Option<String>,
    user_id: Option<String>,
    org_id: Option<String>,
    subject: Option<String>,
    scopes: Option<Vec<String>>,
}

async fn machine_tokens_agree_with_clerk_for_every_accepted_kind(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell"));
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_AUTHORIZED_PARTIES", AZP)]).await;
    let mut cases = Vec::new();
    let mut routes = Vec::new();
    for (name, token) in machine_tokens(&clerk) {
        for (route, accepts) in ROUTES {
            let accepts = accepts.map(|a| match a {
                "machine" => json!(["api_key", "m2m_token", "oauth_token"]),
                other => json!(other),
            });
            let label = format!("{name} on {route}");
            cases.push(Case { label, headers: vec![("authorization", format!("Bearer {token}"))], accepts });
            routes.push(route);
        }
    }
    assert!(cases.len() >= 60, "{} requests", cases.len());
    let theirs = clerk_answers(&clerk, &app, &cases);
    let mut differences = Vec::new();
    let mut signed_in = 0;
    for ((case, route), answer) in cases.iter().zip(&routes).zip(&theirs) {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let list = |v: &Value| v.as_array().map(|l| l.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect());
        let whoami = *route == "/api/whoami";
        let clerks = MachineVerdict {
            signed_in: answer["signedIn"] == true,
            token_type: (answer["signedIn"] == true).then(|| text(&answer["tokenType"])).flatten(),
            user_id: text(&answer["userId"]),
            org_id: text(&answer["orgId"]),
            // Compared where our route says them: `/api/whoami`, for machine tokens.
            subject: if whoami && answer["tokenType"] != "session_token" { text(&answer["subject"]) } else { None },
            scopes: if whoami && answer["tokenType"] != "session_token" { list(&answer["scopes"]) } else { None },
        };
        let clerks = if *route == "/api/examples/machine" {
            MachineVerdict { token_type: None, user_id: None, org_id: None, ..clerks }
        } else {
            clerks
        };
        let mut req = app.client.request(
            if *route == "/api/examples/machine" { reqwest::Method::POST } else { reqwest::Method::GET },
            app.url(route),
        );
        req = req.header("accept", "application/json").header(case.headers[0].0, &case.headers[0].1);
        if *route == "/api/examples/machine" {
            req = req.header("content-type", "application/x-www-form-urlencoded").body("");
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success() || status == 401 || status == 403, "{}: {status} {body}", case.label);
        let ours = match *route {
            "/api/me" => MachineVerdict {
                signed_in: status.is_success(),
                token_type: status.is_success().then(|| "session_token".to_owned()),
                user_id: status.is_success().then(|| text(&body["clerk_id"])).flatten(),
                org_id: status.is_success().then(|| text(&body["org"]["id"])).flatten(),
                subject: None,
                scopes: None,
            },
            "/api/whoami" => MachineVerdict {
                signed_in: status.is_success(),
                token_type: text(&body["token_type"]),
                user_id: text(&body["user_id"]),
                org_id: text(&body["org_id"]),
                subject: if body["token_type"] != "session_token" { text(&body["subject"]) } else { None },
                scopes: if body["token_type"] != "session_token" { list(&body["scopes"]) } else { None },
            },
            _ => MachineVerdict {
                signed_in: status.is_success() || status == 403,
                token_type: None,
                user_id: None,
                org_id: None,
                subject: None,
                scopes: None,
            },
        };
        signed_in += usize::from(clerks.signed_in);
        if ours != clerks {
            differences.push(format!(
                "{}: ours {ours:?}, Clerk's {clerks:?} ({} {})",
                case.label, answer["status"], answer["reason"]
            ));
        }
    }
    assert_agree(&differences, cases.len());
    assert!(signed_in >= 15 && signed_in < cases.len() - 20, "{signed_in} of {} signed in", cases.len());
}

/// Clerk Billing's `pla` in every shape, asked for every kind of plan name: the example server
/// function guarded by `require_plan` passes exactly when Clerk's `has({ plan })` does.
async fn plans_agree_with_clerks_has(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell"));
    let app = TestApp::with_clerk(backend, &clerk, &[]).await;
    let acme = json!({ "id": "org_acme", "slg": "acme", "rol": "admin" });
    let token = |pla: Value, org: Option<&Value>, v1: bool| {
        let mut claims = session_claims("user_alice");
        if let Some(c) = claims.as_object_mut() {
            match pla {
                Value::Null => c.remove("pla"),
                pla => c.insert("pla".into(), pla),
            };
            if v1 {
                c.remove("v");
                c.insert("org_id".into(), json!("org_acme"));
                c.insert("org_role".into(), json!("org:admin"));
            } else if let Some(org) = org {
                c.insert("o".into(), org.clone());
            }
        }
        clerk.mint(&claims)
    };
    let tokens = [
        ("user and org plans", token(json!("u:free,o:pro"), Some(&acme), false)),
        ("user plan, no organization", token(json!("u:free"), None, false)),
        ("both scopes", token(json!("ou:team"), Some(&acme), false)),
        ("spaces around", token(json!(" u:free , o:pro "), Some(&acme), false)),
        ("trailing comma", token(json!("u:free,o:pro,"), Some(&acme), false)),
        ("an element without a scope", token(json!("u:free,pro"), Some(&acme), false)),
        ("an unknown scope", token(json!("x:gold,u:silver"), Some(&acme), false)),
        ("long scopes in the claim", token(json!("user:free,org:pro"), Some(&acme), false)),
        ("a colon in the slug", token(json!("u:a:b"), None, false)),
        ("empty", token(json!(""), Some(&acme), false)),
        ("a number", token(json!(5), Some(&acme), false)),
        ("no pla", token(Value::Null, Some(&acme), false)),
        ("v1 token", token(json!("u:free,o:pro"), None, true)),
    ];
    let asked = [
        "pro",
        "free",
        "team",
        "silver",
        "gold",
        "user:free",
        "u:free",
        "org:pro",
        "o:pro",
        "organization:pro",
        "org:free",
        "user:pro",
        "foo:pro",
        "Free",
        "user:free:x",
        "user:",
        "user",
        "a:b",
        "user:a:b",
        "enterprise",
    ];
    let cases: Vec<Case> = tokens
        .iter()
        .map(|(label, token)| Case {
            label: (*label).to_owned(),
            headers: vec![("authorization", format!("Bearer {token}"))],
            accepts: None,
        })
        .collect();
    let theirs = clerk_answers_with(&clerk, &app, &cases, json!({ "plans": asked }));
    let mut differences = Vec::new();
    let mut passed = 0;
    for (case, answer) in cases.iter().zip(&theirs) {
        assert_eq!(answer["signedIn"], true, "{}", case.label);
        for plan in asked {
            let body: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("plan", plan).finish();
            let res = app
                .client
                .post(app.url("/api/examples/plan"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .header(case.headers[0].0, &case.headers[0].1)
                .body(body)
                .send()
                .await
                .expect("request");
            let ours = res.status();
            let clerks = answer["plans"][plan] == true;
            assert!(ours.is_success() || ours == reqwest::StatusCode::FORBIDDEN, "{} {plan}: {ours}", case.label);
            passed += usize::from(ours.is_success());
            if ours.is_success() != clerks {
                differences.push(format!("{} / {plan:?}: ours {ours}, Clerk's has() {clerks}", case.label));
            }
        }
    }
    assert_agree(&differences, cases.len() * asked.len());
    assert!(passed > 20 && passed < cases.len() * asked.len() - 50, "{passed} passed");
}
