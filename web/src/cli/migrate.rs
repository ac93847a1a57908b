//! `migrate-users-to-clerk`: the terminal side (progress, then the summary or JSON).

use backend::{
    Config,
    mirror::MirrorPolicy,
    sync::{
        Progress,
        migrate::{self, MigrateOptions},
    },
};

use super::{
    database,
    sync::{Reporter, clerk_api},
};

pub async fn run(config: &Config, options: MigrateOptions, json: bool) -> anyhow::Result<()> {
    let api = clerk_api(config)?;
    let db = database::open(config).await?;
    let policy = MirrorPolicy::from_config(config);
    let reporter = Reporter::new();
    let progress = |p: Progress<'_>| reporter.show(p);
    let result = migrate::migrate_users_to_clerk(&db, &api, &policy, options, &progress).await;
    reporter.finish();
    if options.dry_run {
        db.close().await
    } else {
        database::close_after_writes(db).await
    }
    let report = result?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{report}");
    }
    if report.failed > 0 {
        anyhow::bail!(
            "{} of {} accounts were not moved to Clerk; run again after fixing them",
            report.failed,
            report.candidates
        );
    }
    Ok(())
}
