//! Logging: tracing with a `RUST_LOG` filter.

use tracing_subscriber::{EnvFilter, fmt};

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,server=info,backend=info,app=info,sqlx=warn,tower_sessions=warn"));
    // Logs go to stderr so that `--json` output on stdout stays machine-readable.
    let _ = fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
