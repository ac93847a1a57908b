//! `/metrics` in the Prometheus text format, on its own address (`METRICS_ADDR`) so that it is
//! never public by accident. The recorder is process-wide: installed once, by the first
//! application that asks for it; gauges that describe state (pools, queues, permits) are read
//! when scraped.

use std::sync::OnceLock;

use app_core::state::AppState;
use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use backend::measure::names;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets (seconds): a warm page is ~0.1 ms, a cold Backend API call ~100 ms.
const LATENCY: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
const BATCH: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
const LONG: &[f64] = &[1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0];

/// The process's recorder, installed on first use (`None` if another recorder was installed).
fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(names::HTTP_DURATION.into()), LATENCY)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(names::WEBHOOK_COMMIT.into()), LATENCY))
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(names::BUS_LAG.into()), LATENCY))
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(names::WEBHOOK_BATCH_SIZE.into()), BATCH))
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(names::SYNC_DURATION.into()), LONG));
            let recorder = match built {
                Ok(builder) => builder.build_recorder(),
                Err(err) => {
                    tracing::error!(error = %err, "metrics: bad bucket settings");
                    return None;
                }
            };
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("metrics: another recorder is installed; /metrics is off");
                return None;
            }
            backend::measure::describe();
            backend::measure::start_recording();
            // Histogram samples wait in buffers until drained: drain them even if nobody scrapes.
            let upkeep = handle.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    tick.tick().await;
                    upkeep.run_upkeep();
                }
            });
            Some(handle)
        })
        .as_ref()
}

/// Binds `METRICS_ADDR` and installs the recorder; serve with [`serve`].
pub async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    use anyhow::Context;
    if handle().is_none() {
        anyhow::bail!("METRICS_ADDR is set, but the metrics recorder could not be installed");
    }
    TcpListener::bind(addr).await.with_context(|| format!("binding METRICS_ADDR {addr}"))
}

pub async fn serve(listener: TcpListener, state: AppState) {
    let app = Router::new().route("/metrics", get(render)).with_state(state);
    if let Err(err) = axum::serve(listener, app).await {
        tracing::error!(error = %err, "the metrics listener stopped");
    }
}

async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let (in_use, idle, max) = state.db.pool_stats();
    backend::measure::db_pool(in_use, idle, max);
    backend::measure::webhook_queue(state.webhooks.queue_depth());
    let gate = backend::staff::verify_gate::stats();
    backend::measure::password_checks(gate.in_use, gate.permits);
    let body = handle().map(PrometheusHandle::render).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
}
