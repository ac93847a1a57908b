//! `server export-user`: everything stored about one person, as one JSON document on stdout.

use anyhow::Context;
use backend::{
    Config,
    export::{Person, export_person},
};

use super::database;

pub async fn export_user(config: &Config, clerk_id: Option<&str>, email: Option<&str>) -> anyhow::Result<()> {
    let clerk_id = clerk_id.map(ids::ClerkUserId::from);
    let who = match (clerk_id.as_ref(), email) {
        (Some(id), None) => Person::ClerkId(id),
        (None, Some(email)) => Person::Email(email),
        _ => anyhow::bail!("give exactly one of --clerk-id and --email"),
    };
    let db = database::open(config).await?;
    let exported = export_person(&db, who).await;
    db.close().await;
    let document = exported.context("exporting the user")?;
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}
