//! Logging: tracing with a `RUST_LOG` filter, as text or (`LOG_FORMAT=json`) one JSON object per
//! line carrying the request's span (`request_id`, `route`, `user_id`, `org_id`).

use tracing_subscriber::{EnvFilter, fmt};

/// Installs the subscriber; an unknown `LOG_FORMAT` is an error, not a silent default.
pub fn init() -> Result<(), String> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,web=info,backend=info,app=info,sqlx=warn,tower_sessions=warn"));
    // Logs go to stderr so that `--json` output on stdout stays machine-readable.
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let format = std::env::var("LOG_FORMAT").unwrap_or_default();
    match format.trim().to_ascii_lowercase().as_str() {
        "" | "text" => {
            let _ = builder.try_init();
        }
        "json" => {
            let _ = builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init();
        }
        other => return Err(format!("LOG_FORMAT: expected text or json, got {other:?}")),
    }
    Ok(())
}
