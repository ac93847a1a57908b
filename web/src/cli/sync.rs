//! The sync commands' terminal side: a progress bar on a TTY, plain lines otherwise, and the
//! summary (or JSON) at the end.

use std::{io::IsTerminal, sync::Mutex, time::Instant};

use anyhow::Context;
use backend::{
    Config,
    clerk::api::ClerkApi,
    mirror::{
        MirrorPolicy,
        username_push::{self, PushReport},
    },
    sync::{self, Progress, SyncOptions, SyncReport},
};
use indicatif::{ProgressBar, ProgressStyle};

use super::database;

#[derive(Clone, Copy, Debug)]
pub enum What {
    Users,
    Organizations,
    Billing,
}

pub async fn run(config: &Config, what: What, options: SyncOptions, json: bool) -> anyhow::Result<()> {
    let api = clerk_api(config)?;
    let db = database::open(config).await?;
    let policy = MirrorPolicy::from_config(config);

    let dry_run = options.dry_run;
    let reporter = Reporter::new();
    let progress = |p: Progress<'_>| reporter.show(p);
    let result = match what {
        What::Users => sync::sync_users(&db, &api, &policy, options, &progress).await,
        What::Organizations => sync::sync_organizations(&db, &api, &policy, options, &progress).await,
        What::Billing => sync::sync_billing(&db, &api, options, &progress).await,
    };
    reporter.finish();
    // Even after a failure part way: what was written stays written.
    if dry_run {
        db.close().await
    } else {
        database::close_after_writes(db).await
    }
    let report: SyncReport = result?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}

/// The Backend API client the commands use; they all need the secret key.
pub(super) fn clerk_api(config: &Config) -> anyhow::Result<ClerkApi> {
    if config.clerk_secret_key.is_none() {
        anyhow::bail!("CLERK_SECRET_KEY is not set: this command calls Clerk's Backend API with it");
    }
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .build()
        .context("building the HTTP client")?;
    Ok(ClerkApi::new(http, config.clerk_api_url.clone(), config.clerk_secret_key.clone()))
}

/// Renders progress: a spinner with counts on a terminal, a line per page otherwise.
pub(super) struct Reporter {
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Mutex<Instant>,
}

impl Reporter {
    pub(super) fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self { bar, started: Instant::now(), last_line: Mutex::new(Instant::now()) }
    }

    pub(super) fn show(&self, progress: Progress<'_>) {
        let line = match progress {
            Progress::Page { what, fetched, total: Some(total) } => format!("{what}: {fetched}/{total} fetched"),
            Progress::Page { what, fetched, total: None } => format!("{what}: {fetched} fetched"),
            Progress::Waiting { seconds, reason } => format!("waiting {seconds}s: {reason}"),
            Progress::Done { what, done, total } => format!("{what}: {done}/{total}"),
        };
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None => {
                // Plain lines at most once a second (and always for waits), for logs and CI.
                let mut last = self.last_line.lock().unwrap_or_else(|p| p.into_inner());
                if line.starts_with("waiting") || last.elapsed().as_secs() >= 1 {
                    eprintln!("[{:>5.1}s] {line}", self.started.elapsed().as_secs_f64());
                    *last = Instant::now();
                }
            }
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub async fn generate_usernames(config: &Config, prefix: Option<String>, push: bool) -> anyhow::Result<()> {
    let api = if push { Some(clerk_api(config)?) } else { None };
    let db = database::open(config).await?;
    let prefix = prefix.unwrap_or_else(|| config.username_prefix.clone());
    let filled = sync::generate_missing_usernames(&db, &prefix).await;
    let pushed = match (&api, &filled) {
        (Some(api), Ok(_)) => Some(push_all(&db, api, &prefix).await),
        _ => None,
    };
    database::close_after_writes(db).await;
    let filled = filled.context("generating usernames")?;
    println!("{filled} usernames generated");
    if let Some(report) = pushed {
        let report = report?;
        println!(
            "{} pushed to Clerk, {} renamed (taken in Clerk), {} users gone, {} refused ({} requests)",
            report.pushed, report.renamed, report.gone, report.failed, report.requests
        );
    }
    Ok(())
}

/// Pushes until nothing is left: a name Clerk refused as taken is renamed, then pushed on the
/// next pass (three passes at most).
async fn push_all(db: &backend::Db, api: &ClerkApi, prefix: &str) -> anyhow::Result<PushReport> {
    let reporter = Reporter::new();
    let progress = |p: Progress<'_>| reporter.show(p);
    let mut total = PushReport::default();
    for _ in 0..3 {
        let pass = username_push::push_pending(db, api, prefix, &progress).await;
        let pass = match pass {
            Ok(pass) => pass,
            Err(err) => {
                reporter.finish();
                return Err(err.into());
            }
        };
        total.add(&pass);
        if pass.renamed == 0 {
            break;
        }
    }
    reporter.finish();
    Ok(total)
}
