//! Runs the fake Clerk as a process, for benchmarks and manual testing. Prints `API_URL=…` and,
//! with `--mint USER_ID`, `TOKEN=…` (a session token valid for an hour), `API_KEY=…` (that user's
//! API key) and `M2M_JWT=…` (a JWT M2M token for `mch_bench`, an hour), then serves until killed.
//! `--users N` seeds N users (`user_0000000`…) for sync benchmarks and browser tests;
//! `--addr HOST:PORT` picks where to listen (a random loopback port by default).
//! `--password P` lets every seeded user sign in through the Frontend API with P, and
//! `--orgs N` seeds N organizations (`org_0000001`…), each with `user_0000003` as a member
//! (admin of the first, member of the rest) and `user_0000002` as admin of the last.
//! `--rate-limit N/S` answers 429 past N Backend API requests per S seconds, as Clerk does.

use fake_clerk::{FakeClerk, now_secs, session_claims};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // The value after `--name`, if given.
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let count = |name: &str| value(name).and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
    let mint = value("--mint");
    let users = count("--users");
    let password = value("--password");
    let orgs = count("--orgs");
    let addr = value("--addr");
    let clerk = FakeClerk::start_on(addr.as_deref().unwrap_or("127.0.0.1:0")).await;
    if let Some((limit, secs)) = value("--rate-limit").as_deref().and_then(|v| v.split_once('/')) {
        let (Ok(limit), Ok(secs)) = (limit.parse(), secs.parse()) else {
            panic!("--rate-limit takes REQUESTS/SECONDS, e.g. 100/10");
        };
        clerk.rate_limit(limit, std::time::Duration::from_secs(secs));
    }
    println!("API_URL={}", clerk.api_url());
    println!("SECRET_KEY={}", FakeClerk::SECRET_KEY);
    for i in 0..users {
        let id = format!("user_{i:07}");
        clerk.put_user(fake_clerk::user(&id, &format!("{id}@example.com"), "Bench", &format!("User{i}")));
        if let Some(password) = &password {
            clerk.set_password(&id, password);
        }
    }
    for i in 1..=orgs {
        let org = fake_clerk::organization(
            &format!("org_{i:07}"),
            &format!("Organization {i}"),
            &format!("organization-{i}"),
        );
        let members = [("user_0000003", if i == 1 { "org:admin" } else { "org:member" })]
            .into_iter()
            .chain((i == orgs).then_some(("user_0000002", "org:admin")));
        for (user_id, role) in members {
            if let Some(user) = clerk.user(user_id) {
                clerk.put_membership(fake_clerk::membership(&format!("orgmem_{i}_{user_id}"), &org, &user, role));
            }
        }
        clerk.put_organization(org);
    }
    println!("ORGS={orgs}");
    println!("USERS={users}");
    if let Some(user_id) = mint {
        clerk.put_user(fake_clerk::user(&user_id, &format!("{user_id}@example.com"), "Bench", "User"));
        let mut claims = session_claims(&user_id);
        claims["exp"] = serde_json::json!(now_secs() + 3600);
        println!("TOKEN={}", clerk.mint(&claims));
        println!("API_KEY={}", clerk.create_api_key(&user_id, "bench", &["bench"], None).1);
        println!("M2M_JWT={}", fake_clerk::m2m_jwt("mch_bench", &["bench"], 3600));
    }
    let _ = tokio::signal::ctrl_c().await;
}
