//! `server create-staff`: creates a staff account, or resets the password of an existing one.
//! Only staff-only rows (no `clerk_id`) are touched: a Clerk user with the same email never
//! gains a password or the staff flag this way.

use std::io::BufRead;

use anyhow::{Context, bail};
use backend::{Config, db::staff_accounts, email::EmailAddress, staff::NewPassword};

use super::database;

pub async fn create_staff(config: &Config, email: &str, superuser: bool, password_stdin: bool) -> anyhow::Result<()> {
    let Some(email) = EmailAddress::parse(email) else {
        bail!("--email: {:?} is not an email address", email.trim());
    };
    let email = email.as_str();
    let password = if password_stdin { read_stdin_line()? } else { prompt_twice()? };
    let password = NewPassword::parse(&password)?;
    // Argon2 is slow on purpose; keep it off the async workers.
    let hash = tokio::task::spawn_blocking(move || password.hash()).await.context("hashing the password")??;

    let db = database::open(config).await?;
    let (user, created) = staff_accounts::create_or_reset(&db, email, superuser, &hash).await?;
    database::close_after_writes(db).await;
    let kind = if user.is_superuser { "superuser" } else { "staff" };
    if created {
        println!("Created {kind} account {email} (id {}).", user.id);
    } else {
        println!("Reset the password of {kind} account {email} (id {}).", user.id);
    }
    Ok(())
}

fn read_stdin_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn prompt_twice() -> anyhow::Result<String> {
    let first = rpassword::prompt_password("Password: ")
        .context("reading the password from the terminal (use --password-stdin without one)")?;
    let second = rpassword::prompt_password("Password (again): ").context("reading the password")?;
    if first != second {
        bail!("the passwords do not match");
    }
    Ok(first)
}
