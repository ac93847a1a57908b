//! Posts signed, distinct `user.updated` events to `/webhooks/clerk` at fixed concurrency and
//! prints events/s with p50/p99 latency. Several comma-separated URLs are used round-robin, as
//! a load balancer would.
//!
//!   webhook-load URL[,URL…] SECRET [EVENTS=5000] [CONCURRENCY=16]

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::json;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(urls), Some(secret)) = (args.get(1).cloned(), args.get(2).cloned()) else {
        eprintln!("usage: webhook-load URL SECRET [EVENTS] [CONCURRENCY]");
        std::process::exit(2);
    };
    let events: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(5000);
    let concurrency: usize = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(16);

    // Sign everything up front, so the generator's CPU does not count against the server.
    let deliveries: Vec<_> = (0..events)
        .map(|i| {
            let mut user = fake_clerk::user(&format!("user_{:05}", i % 1000), "load@example.com", "Load", "Test");
            user["updated_at"] = json!(1_700_000_000_000i64 + i as i64);
            fake_clerk::webhook(&secret, &format!("msg_load_{i}_{}", fake_clerk::now_millis()), "user.updated", &user)
        })
        .collect();
    let urls: Vec<String> = urls.split(',').map(str::to_owned).collect();
    let queue = Arc::new(Mutex::new(deliveries));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(events)));
    let client = reqwest::Client::new();
    let started = Instant::now();

    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let url = urls[worker % urls.len()].clone();
        let (queue, latencies, client) = (queue.clone(), latencies.clone(), client.clone());
        workers.push(tokio::spawn(async move {
            while let Some(d) = queue.lock().ok().and_then(|mut q| q.pop()) {
                let mut req = client.post(&url).body(d.body.clone());
                for (k, v) in d.headers() {
                    req = req.header(k, v);
                }
                let t = Instant::now();
                match req.send().await {
                    Ok(res) if res.status().is_success() => {
                        if let Ok(mut l) = latencies.lock() {
                            l.push(t.elapsed());
                        }
                    }
                    Ok(res) => eprintln!("unexpected status {}", res.status()),
                    Err(err) => eprintln!("request failed: {err}"),
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let elapsed = started.elapsed();
    let mut samples = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    let ok = samples.len();
    let (p50, p99) = bench::percentiles(&mut samples);
    println!(
        "events={ok}/{events} concurrency={concurrency} elapsed={:.2}s events/s={:.0} p50={:.2}ms p99={:.2}ms",
        elapsed.as_secs_f64(),
        ok as f64 / elapsed.as_secs_f64(),
        ms(p50),
        ms(p99)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
