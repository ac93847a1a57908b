//! Posts signed, distinct webhook deliveries to `/webhooks/clerk` at fixed concurrency and
//! prints events/s, p50/p99 latency and, given the server's pid, its CPU time per event.
//! Only deliveries answered `processed` count: a duplicate, a stale event or an error makes the
//! run fail, so replays can never pass for throughput. Several comma-separated URLs are used
//! round-robin, as a load balancer would.
//!
//!   webhook-load URL[,URL…] SECRET KIND [EVENTS=5000] [CONCURRENCY=16] [SERVER_PID]
//!
//! KIND is `user.created` (EVENTS new users), `user.updated` (one newer version of each of
//! the EVENTS users a `user.created` run made) or `subscriptionItem.updated` (EVENTS new Clerk
//! Billing subscription items).

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(urls), Some(secret), Some(kind)) = (args.get(1).cloned(), args.get(2).cloned(), args.get(3).cloned())
    else {
        eprintln!("usage: webhook-load URL SECRET user.created|user.updated [EVENTS] [CONCURRENCY] [SERVER_PID]");
        std::process::exit(2);
    };
    let events: usize = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(5000);
    let concurrency: usize = args.get(5).and_then(|v| v.parse().ok()).unwrap_or(16);
    let server_pid: Option<u32> = args.get(6).and_then(|v| v.parse().ok());
    let updated_at = match kind.as_str() {
        "user.created" => 1_700_000_000_000i64,
        "user.updated" | "subscriptionItem.updated" => 1_800_000_000_000i64,
        _ => {
            eprintln!("KIND must be user.created, user.updated or subscriptionItem.updated");
            std::process::exit(2);
        }
    };

    // Sign everything up front, so the generator's CPU does not count against the server.
    let run = fake_clerk::now_millis();
    let plan = fake_clerk::billing::plan("cplan_pro", "pro", "Pro", 2_000);
    let deliveries: Vec<_> = (0..events)
        .map(|i| {
            if kind == "subscriptionItem.updated" {
                let item = fake_clerk::billing::subscription_item(
                    &format!("csub_item_load{i:06}_{run}"),
                    &plan,
                    "active",
                    &format!("user_load{i:06}"),
                    updated_at,
                );
                return fake_clerk::webhook_sent_at(
                    &secret,
                    &format!("msg_{kind}_{i}_{run}"),
                    &kind,
                    &item,
                    updated_at,
                );
            }
            let id = format!("user_load{i:06}");
            let mut user = fake_clerk::user(&id, &format!("{id}@example.com"), "Load", "Test");
            user["updated_at"] = json!(updated_at);
            fake_clerk::webhook(&secret, &format!("msg_{kind}_{i}_{run}"), &kind, &user)
        })
        .collect();
    let deliveries = Arc::new(deliveries);
    let next = Arc::new(AtomicUsize::new(0));
    let urls: Vec<String> = urls.split(',').map(str::to_owned).collect();
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(events)));
    let answers = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let client = reqwest::Client::new();
    let cpu_before = server_pid.and_then(cpu_ticks);
    let started = Instant::now();

    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let url = urls[worker % urls.len()].clone();
        let (deliveries, next, latencies, answers, client) =
            (deliveries.clone(), next.clone(), latencies.clone(), answers.clone(), client.clone());
        workers.push(tokio::spawn(async move {
            while let Some(d) = deliveries.get(next.fetch_add(1, Ordering::Relaxed)) {
                let mut req = client.post(&url).body(d.body.clone());
                for (k, v) in d.headers() {
                    req = req.header(k, v);
                }
                let t = Instant::now();
                let answer = match req.send().await {
                    Ok(res) => {
                        let status = res.status();
                        let body: Value = res.json().await.unwrap_or(Value::Null);
                        match body["status"].as_str() {
                            Some(s) if status.is_success() => s.to_owned(),
                            _ => format!("http {status}"),
                        }
                    }
                    Err(err) => format!("request failed: {err}"),
                };
                if answer == "processed"
                    && let Ok(mut l) = latencies.lock()
                {
                    l.push(t.elapsed());
                }
                if let Ok(mut a) = answers.lock() {
                    *a.entry(answer).or_default() += 1;
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let elapsed = started.elapsed();
    let cpu = cpu_before.zip(server_pid.and_then(cpu_ticks)).map(|(a, b)| b.saturating_sub(a));
    let mut samples = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    let processed = samples.len();
    let (p50, p99) = bench::percentiles(&mut samples);
    let cpu_per_event = match cpu {
        // Clock ticks are 10 ms on Linux (CLK_TCK 100).
        Some(ticks) if processed > 0 => format!("{:.3}", ticks as f64 * 10.0 / processed as f64),
        _ => "n/a".to_owned(),
    };
    println!(
        "{kind} processed={processed}/{events} concurrency={concurrency} elapsed={:.2}s events/s={:.0} p50={:.2}ms p99={:.2}ms cpu_ms/event={cpu_per_event}",
        elapsed.as_secs_f64(),
        processed as f64 / elapsed.as_secs_f64(),
        ms(p50),
        ms(p99),
    );
    if processed != events {
        let answers = answers.lock().map(|a| a.clone()).unwrap_or_default();
        eprintln!("error: only {processed} of {events} distinct events were processed: {answers:?}");
        std::process::exit(1);
    }
}

/// User plus system CPU time of a process, in clock ticks, from /proc.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
