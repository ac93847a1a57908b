//! `migrate-users-to-clerk`: a Clerk user for each local account that has none, created with
//! the account's password hash when Clerk can import it, then linked. Resumable: a linked
//! account is never read again, and a Clerk user created just before a crash is found again by
//! its `external_id` (the local id) instead of being created twice.

use ids::{ClerkUserId, UserId};
use std::time::Instant;

use futures_util::{StreamExt, stream::FuturesUnordered};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Fetcher, Progress, SyncError};
use crate::{
    clerk::api::{ApiError, ClerkApi},
    db::{
        Db,
        local_accounts::{self, LocalAccount, NotLinked},
    },
    mirror::{MirrorError, MirrorPolicy, upsert_user},
};

/// Clerk calls in flight at once: enough to hide the round trip, few enough that a 429 stops
/// little work.
const CONCURRENCY: usize = 8;

/// Which local accounts move. Staff stay password-only unless asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StaffChoice {
    #[default]
    ExcludeStaff,
    OnlyStaff,
}

#[derive(Clone, Copy, Debug)]
pub struct MigrateOptions {
    pub dry_run: bool,
    /// Link to a Clerk user who already has the account's email, verified, instead of failing.
    pub skip_existing: bool,
    /// Accounts read and linked per transaction.
    pub batch: usize,
    pub staff: StaffChoice,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MigrateReport {
    /// Accounts without a Clerk user that this run took on.
    pub candidates: u64,
    pub created: u64,
    /// Linked to a Clerk user that existed already (see `links`).
    pub linked: u64,
    /// Accounts the staff choice left alone.
    pub skipped: u64,
    pub failed: u64,
    /// Created with their password hash, so their password still works.
    pub with_password: u64,
    pub links: Vec<Link>,
    pub failures: Vec<Failure>,
    pub requests: u64,
    pub elapsed_ms: u64,
    pub dry_run: bool,
}

/// An account linked to an existing Clerk user: reported one by one, because an operator asked.
#[derive(Clone, Debug, Serialize)]
pub struct Link {
    pub local_id: UserId,
    pub email: String,
    pub clerk_id: ClerkUserId,
    pub by: LinkedBy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkedBy {
    /// `--skip-existing`: the same verified email.
    Email,
    /// Created by an earlier, interrupted run.
    ExternalId,
}

#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub local_id: UserId,
    pub email: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    /// Clerk's message, or ours.
    pub message: String,
}

impl std::fmt::Display for MigrateReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for link in &self.links {
            let by = if link.by == LinkedBy::Email { "the same verified email" } else { "an earlier run" };
            writeln!(f, "linked {} (local {}) to {} by {by}", link.email, link.local_id, link.clerk_id)?;
        }
        for failure in &self.failures {
            writeln!(f, "failed {} (local {}): {}", failure.email, failure.local_id, failure.message)?;
        }
        write!(
            f,
            "{}created {} ({} with their password), linked {}, skipped {}, failed {} of {} ({} requests, {:.1}s)",
            if self.dry_run { "dry run, would have " } else { "" },
            self.created,
            self.with_password,
            self.linked,
            self.skipped,
            self.failed,
            self.candidates,
            self.requests,
            self.elapsed_ms as f64 / 1000.0,
        )
    }
}

pub async fn migrate_users_to_clerk(
    db: &Db,
    api: &ClerkApi,
    policy: &MirrorPolicy,
    options: MigrateOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<MigrateReport, SyncError> {
    let started = Instant::now();
    let staff = options.staff == StaffChoice::OnlyStaff;
    let mut report = MigrateReport {
        candidates: local_accounts::count_unlinked(db, staff).await? as u64,
        skipped: local_accounts::count_unlinked(db, !staff).await? as u64,
        dry_run: options.dry_run,
        ..Default::default()
    };
    let batch = options.batch.clamp(1, 10_000) as i64;
    let (mut after, mut done) = (UserId(0), 0);
    loop {
        let page = local_accounts::unlinked_page(db, staff, after, batch).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        done += page.len() as u64;
        if options.dry_run {
            report.created += page.len() as u64;
            report.with_password += page.iter().filter(|a| importable_hash(a).is_some()).count() as u64;
        } else {
            let found = find_or_create_all(api, progress, &page, options.skip_existing, &mut report).await;
            let stop = link_all(db, policy, found, &mut report).await?;
            if let Some(err) = stop {
                report.elapsed_ms = started.elapsed().as_millis() as u64;
                return Err(err);
            }
        }
        progress(Progress::Done { what: "users migrated", done, total: report.candidates });
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// The Clerk user for an account: created now, or found from an earlier run or by email.
enum Found {
    Created(Value),
    Linked(Value, LinkedBy),
}

/// Clerk calls for one page, `CONCURRENCY` at a time, in any order.
async fn find_or_create_all<'a>(
    api: &ClerkApi,
    progress: &(dyn Fn(Progress<'_>) + Sync),
    page: &'a [LocalAccount],
    skip_existing: bool,
    report: &mut MigrateReport,
) -> Vec<(&'a LocalAccount, Result<Found, SyncError>)> {
    let mut accounts = page.iter();
    let mut running = FuturesUnordered::new();
    let mut results = Vec::with_capacity(page.len());
    loop {
        while running.len() < CONCURRENCY {
            let Some(account) = accounts.next() else { break };
            running.push(async move {
                let mut fetcher = Fetcher::new(api, progress);
                let found = find_or_create(&mut fetcher, account, skip_existing).await;
                (account, found, fetcher.requests)
            });
        }
        let Some((account, found, requests)) = running.next().await else { break };
        report.requests += requests;
        results.push((account, found));
    }
    results
}

async fn find_or_create(
    fetcher: &mut Fetcher<'_>,
    account: &LocalAccount,
    skip_existing: bool,
) -> Result<Found, SyncError> {
    let api = fetcher.api;
    let body = new_user(account);
    let refusal = match fetcher.call(|| api.create_user(&body)).await {
        Ok(user) => return Ok(Found::Created(user)),
        Err(SyncError::Refused(err @ ApiError::Status { status: 422, .. })) => err,
        Err(err) => return Err(err),
    };
    if !matches!(&refusal, ApiError::Status { code, .. } if code == "form_identifier_exists") {
        return Err(SyncError::Refused(refusal));
    }
    let external_id = account.id.to_string();
    let ours = fetcher.call(|| api.find_users("external_id", &external_id)).await?;
    if let Some(user) = list(&ours).find(|u| u["external_id"] == external_id.as_str()) {
        return Ok(Found::Linked(user.clone(), LinkedBy::ExternalId));
    }
    if skip_existing {
        let same_email = fetcher.call(|| api.find_users("email_address", &account.email)).await?;
        let verified: Vec<&Value> = list(&same_email).filter(|u| has_verified_email(u, &account.email)).collect();
        if let [user] = verified.as_slice() {
            return Ok(Found::Linked((*user).clone(), LinkedBy::Email));
        }
    }
    Err(SyncError::Refused(refusal))
}

/// Links each account in one transaction, and mirrors Clerk's user onto it. Returns the error
/// that must stop the run (Clerk refused the key), after linking what was done.
async fn link_all(
    db: &Db,
    policy: &MirrorPolicy,
    found: Vec<(&LocalAccount, Result<Found, SyncError>)>,
    report: &mut MigrateReport,
) -> Result<Option<SyncError>, SyncError> {
    let mut stop = None;
    let mut tx = db.begin().await?;
    for (account, found) in found {
        let (user, by) = match found {
            Ok(Found::Created(user)) => (user, None),
            Ok(Found::Linked(user, by)) => (user, Some(by)),
            Err(err @ SyncError::Unauthorized { .. }) => {
                stop = Some(err);
                continue;
            }
            Err(SyncError::Database(err)) => return Err(err.into()),
            Err(err) => {
                report.failures.push(failure(account, &err));
                continue;
            }
        };
        let clerk_id = ClerkUserId::from(user["id"].as_str().unwrap_or_default());
        // A mirror row for a user we created can only be our own webhook's copy.
        let replace_copy = by != Some(LinkedBy::Email);
        let outcome = match local_accounts::link_in(tx.conn(), account.id, &clerk_id, replace_copy).await? {
            Ok(()) => upsert_user(&mut tx, policy, &user).await.map(|_| ()),
            Err(NotLinked::Gone) => {
                report.failures.push(local_failure(account, "the account was linked or deleted during the run"));
                continue;
            }
            Err(NotLinked::ClerkUserTaken { local_id }) => {
                let message = format!("Clerk user {clerk_id} is already mirrored as local user {local_id}");
                report.failures.push(local_failure(account, &message));
                continue;
            }
        };
        match outcome {
            Ok(()) => {}
            Err(MirrorError::Database(err)) => return Err(err.into()),
            Err(err) => {
                report.failures.push(local_failure(account, &err.to_string()));
                continue;
            }
        }
        match by {
            None => {
                report.created += 1;
                report.with_password += u64::from(importable_hash(account).is_some());
            }
            Some(by) => {
                report.linked += 1;
                report.links.push(Link { local_id: account.id, email: account.email.clone(), clerk_id, by });
            }
        }
    }
    tx.commit().await?;
    // Calls finish in any order; the report reads in account order.
    report.failures.sort_by_key(|f| f.local_id);
    report.links.sort_by_key(|l| l.local_id);
    report.failed = report.failures.len() as u64;
    Ok(stop)
}

/// The `POST /v1/users` body for an account.
fn new_user(account: &LocalAccount) -> Value {
    let mut body = json!({ "email_address": [account.email], "external_id": account.id.to_string() });
    let optional = [
        ("first_name", Some(&account.first_name)),
        ("last_name", Some(&account.last_name)),
        ("username", account.username.as_ref()),
    ];
    for (field, value) in optional {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            body[field] = json!(value);
        }
    }
    match importable_hash(account) {
        Some((hasher, digest)) => {
            body["password_digest"] = json!(digest);
            body["password_hasher"] = json!(hasher);
        }
        None => body["skip_password_requirement"] = json!(true),
    }
    body
}

/// The account's password hash as Clerk's `password_hasher` and `password_digest`, when Clerk
/// can verify it: argon2id (what this app writes), bcrypt, and Django's PBKDF2.
pub fn importable_hash(account: &LocalAccount) -> Option<(&'static str, &str)> {
    let hash = account.password_hash.as_deref()?;
    let hasher = if hash.starts_with("$argon2id$") {
        "argon2id"
    } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
        "bcrypt"
    } else if hash.starts_with("pbkdf2_sha256$") {
        "pbkdf2_sha256_django"
    } else {
        return None;
    };
    Some((hasher, hash))
}

fn list(users: &Value) -> impl Iterator<Item = &Value> {
    users.as_array().into_iter().flatten()
}

fn has_verified_email(user: &Value, email: &str) -> bool {
    list(&user["email_addresses"]).any(|e| {
        e["email_address"].as_str().is_some_and(|a| a.eq_ignore_ascii_case(email))
            && e["verification"]["status"] == "verified"
    })
}

fn failure(account: &LocalAccount, err: &SyncError) -> Failure {
    let (status, code, message) = match err {
        SyncError::Refused(ApiError::Status { status, code, message, .. }) => {
            (Some(*status), Some(code.clone()), message.clone())
        }
        other => (None, None, other.to_string()),
    };
    Failure { local_id: account.id, email: account.email.clone(), status, code, message }
}

fn local_failure(account: &LocalAccount, message: &str) -> Failure {
    Failure { local_id: account.id, email: account.email.clone(), status: None, code: None, message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(hash: Option<&str>) -> LocalAccount {
        LocalAccount {
            id: UserId(7),
            email: "a@example.com".into(),
            username: None,
            first_name: "Ann".into(),
            last_name: String::new(),
            is_staff: false,
            password_hash: hash.map(str::to_owned),
        }
    }

    #[test]
    fn only_hashes_clerk_can_verify_are_sent() {
        let argon = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
        assert_eq!(importable_hash(&account(Some(argon))), Some(("argon2id", argon)));
        assert_eq!(importable_hash(&account(Some("$2b$12$abc"))).map(|h| h.0), Some("bcrypt"));
        assert_eq!(
            importable_hash(&account(Some("pbkdf2_sha256$600000$s$h"))).map(|h| h.0),
            Some("pbkdf2_sha256_django")
        );
        assert_eq!(importable_hash(&account(Some("$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"))), None);
        assert_eq!(importable_hash(&account(None)), None);
    }

    #[test]
    fn the_body_carries_the_digest_or_waives_the_password() {
        let with = new_user(&account(Some("$argon2id$v=19$x")));
        assert_eq!(with["password_hasher"], "argon2id");
        assert_eq!(with["external_id"], "7");
        assert!(with.get("last_name").is_none(), "empty names are left out");
        let without = new_user(&account(None));
        assert_eq!(without["skip_password_requirement"], true);
        assert!(without.get("password_digest").is_none());
    }
}
