//! The command line: `server` serves; subcommands run maintenance tasks and exit.

use anyhow::Context;
use backend::Config;
use clap::{Parser, Subcommand};

use backend::sync::{
    SyncOptions,
    migrate::{MigrateOptions, StaffChoice},
};

use crate::startup::{Application, Site};

mod database;
mod export;
mod migrate;
mod staff;
mod sync;

use sync::What;

#[derive(Debug, Parser)]
#[command(name = "server", version, about = "Leptos + Clerk starter: serve the app, or run a maintenance task")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--dry-run` and `--json`: every command that writes rows and reports what it did takes them.
#[derive(clap::Args, Debug)]
pub struct ReportFlags {
    /// Report what would change, and write or send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// The flags every sync command takes.
#[derive(clap::Args, Debug)]
pub struct SyncFlags {
    /// Tombstone local rows that Clerk no longer has (each confirmed with Clerk first).
    #[arg(long)]
    prune: bool,
    /// Refuse to prune (and exit non-zero) when more than this percentage of the rows look
    /// gone. Default: CLERK_PRUNE_MAX_PERCENT, else 5.
    #[arg(long, value_parser = backend::config::parse_percent)]
    max_prune_percent: Option<f64>,
    #[command(flatten)]
    report: ReportFlags,
}

impl SyncFlags {
    fn options(&self, config: &Config, members: bool) -> SyncOptions {
        SyncOptions {
            prune: self.prune,
            dry_run: self.report.dry_run,
            members,
            max_prune_percent: self.max_prune_percent.unwrap_or(config.prune_max_percent),
            ..Default::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a staff account, or reset the password of an existing one.
    CreateStaff {
        #[arg(long)]
        email: String,
        #[arg(long)]
        superuser: bool,
        /// Read the password as one line from stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Mirror every Clerk user from the Backend API.
    SyncUsers {
        #[command(flatten)]
        flags: SyncFlags,
    },
    /// Print everything stored about one person as JSON: their user row, memberships,
    /// invitations addressed to them, audit entries about them and their server-session count.
    ExportUser {
        /// The person's Clerk user id.
        #[arg(long, required_unless_present = "email", conflicts_with = "email")]
        clerk_id: Option<String>,
        /// The person's email (it must name exactly one Clerk user).
        #[arg(long)]
        email: Option<String>,
    },
    /// Mirror organizations and, with --members, their memberships.
    SyncOrgs {
        /// Also mirror every membership, removing those Clerk no longer lists.
        #[arg(long)]
        members: bool,
        #[command(flatten)]
        flags: SyncFlags,
    },
    /// Mirror every user's and organization's Clerk Billing subscription (plan, items, status).
    SyncBilling {
        #[command(flatten)]
        report: ReportFlags,
    },
    /// Create a Clerk user for every local account without one (staff excepted unless
    /// --only-staff), importing argon2id, bcrypt and Django PBKDF2 password hashes, and link them.
    MigrateUsersToClerk {
        #[command(flatten)]
        report: ReportFlags,
        /// Link an account to the Clerk user who already has its email, verified, and report it.
        #[arg(long)]
        skip_existing: bool,
        /// Accounts per transaction.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..))]
        batch: u16,
        /// Move only staff accounts (they then sign in through Clerk, not with a password here).
        #[arg(long, conflicts_with = "exclude_staff")]
        only_staff: bool,
        /// Leave staff accounts password-only (the default).
        #[arg(long)]
        exclude_staff: bool,
    },
    /// Fill in missing usernames.
    GenerateUsernames {
        #[arg(long)]
        prefix: Option<String>,
        /// Also write every generated username Clerk does not have yet to Clerk.
        #[arg(long)]
        push: bool,
    },
}

impl Cli {
    /// Runs the command; with none, serves `site`.
    pub async fn run(self, site: Site) -> anyhow::Result<()> {
        let config = Config::from_env()?;
        match self.command {
            None => {
                let leptos =
                    leptos::config::get_configuration(None).context("reading the Leptos configuration")?.leptos_options;
                let app = Application::build(config, leptos, site).await?;
                app.run_until_stopped().await
            }
            Some(Command::Migrate) => {
                let db = database::open(&config).await?;
                tracing::info!(backend = db.backend_name(), "migrations applied");
                db.close().await;
                Ok(())
            }
            Some(Command::SyncUsers { flags }) => {
                let options = flags.options(&config, false);
                sync::run(&config, What::Users, options, flags.report.json).await
            }
            Some(Command::SyncOrgs { members, flags }) => {
                let options = flags.options(&config, members);
                sync::run(&config, What::Organizations, options, flags.report.json).await
            }
            Some(Command::SyncBilling { report }) => {
                let options = SyncOptions { dry_run: report.dry_run, ..Default::default() };
                sync::run(&config, What::Billing, options, report.json).await
            }
            Some(Command::ExportUser { clerk_id, email }) => {
                export::export_user(&config, clerk_id.as_deref(), email.as_deref()).await
            }
            Some(Command::MigrateUsersToClerk { report, skip_existing, batch, only_staff, exclude_staff: _ }) => {
                let staff = if only_staff { StaffChoice::OnlyStaff } else { StaffChoice::ExcludeStaff };
                let options = MigrateOptions { dry_run: report.dry_run, skip_existing, batch: batch.into(), staff };
                migrate::run(&config, options, report.json).await
            }
            Some(Command::GenerateUsernames { prefix, push }) => sync::generate_usernames(&config, prefix, push).await,
            Some(Command::CreateStaff { email, superuser, password_stdin }) => {
                staff::create_staff(&config, &email, superuser, password_stdin).await
            }
        }
    }
}
