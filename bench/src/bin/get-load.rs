//! GETs a URL at fixed concurrency for a fixed time and prints requests/s with p50/p99. Several
//! comma-separated URLs are used round-robin (one per connection), as a load balancer would.
//!
//!   get-load URL[,URL…] [SECONDS=10] [CONCURRENCY=32] [BEARER_TOKEN]

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(urls) = args.get(1).cloned() else {
        eprintln!("usage: get-load URL[,URL…] [SECONDS] [CONCURRENCY] [BEARER_TOKEN]");
        std::process::exit(2);
    };
    let seconds: u64 = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(10);
    let concurrency: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(32);
    let token = args.get(4).cloned();
    let urls: Vec<String> = urls.split(',').map(str::to_owned).collect();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(0usize));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();

    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let url = urls[worker % urls.len()].clone();
        let (latencies, errors, token) = (latencies.clone(), errors.clone(), token.clone());
        // One client per worker: one keep-alive connection each, like wrk.
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().expect("client");
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while Instant::now() < deadline {
                let mut req = client.get(&url);
                if let Some(token) = &token {
                    req = req.bearer_auth(token);
                }
                let t = Instant::now();
                match req.send().await {
                    Ok(res) if res.status().is_success() => {
                        let _ = res.bytes().await;
                        mine.push(t.elapsed());
                    }
                    _ => *errors.lock().unwrap_or_else(|p| p.into_inner()) += 1,
                }
            }
            latencies.lock().unwrap_or_else(|p| p.into_inner()).extend(mine);
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut samples = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    let ok = samples.len();
    let (p50, p99) = bench::percentiles(&mut samples);
    let errors = *errors.lock().unwrap_or_else(|p| p.into_inner());
    println!(
        "requests={ok} errors={errors} concurrency={concurrency} req/s={:.0} p50={:.2}ms p99={:.2}ms",
        ok as f64 / elapsed,
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0
    );
}
