//! `sagasync profiles ...`: administer the job-seeker accounts and their profiles
//! (what `serve --accounts` lets people edit themselves).

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};

use super::Context;
use super::format::{FormatArgs, stdout, write_list, write_record};
use super::input::{confirm, read_secret};
use super::table::Layout;
use crate::profiles::auth;
use crate::profiles::store::{self, AccountInput, AccountView, ProfileImport};
use crate::secret::Secret;

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub command: ProfilesCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Create an account; its password is read from stdin when piped, or a hidden prompt
    Add {
        /// Its email (unique, whatever the case)
        #[arg(long)]
        email: String,
        /// The person's name
        #[arg(long)]
        name: String,
        /// A phone number
        #[arg(long)]
        phone: Option<String>,
        /// Create it without a password (no login until `profiles set-password`)
        #[arg(long)]
        no_password: bool,
    },
    /// List the accounts
    List {
        /// JSON: an array of accounts; CSV: a row per account
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Show an account (by id or email) with its skills, experiences and education
    Show {
        /// The account's id or email
        account: String,
        /// JSON: the profile as `profiles export` writes it
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Delete an account and everything its profile holds
    Remove {
        /// The account's id or email
        account: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
    /// Set an account's password (stdin or a hidden prompt); its tokens are revoked
    SetPassword {
        /// The account's id or email
        account: String,
    },
    /// Disable an account (no login, its tokens revoked), or enable it again
    Disable {
        /// The account's id or email
        account: String,
        /// Enable it instead
        #[arg(long)]
        enable: bool,
    },
    /// Print a profile as JSON (no password), for `profiles import`
    Export {
        /// The account's id or email
        account: String,
    },
    /// Create an account from a profile exported as JSON (a file, or - for stdin)
    Import {
        /// The JSON file, or - for standard input
        file: String,
    },
}

pub async fn run(args: ProfilesArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    match args.command {
        ProfilesCommand::Add {
            email,
            name,
            phone,
            no_password,
        } => {
            let input = AccountInput { email, name, phone };
            // The fields are checked before a password is asked for.
            store::email(&input.email)?;
            let hash = if no_password {
                None
            } else {
                let password = read_secret("password: ")?;
                Some(checked_hash(password, &input.email).await?)
            };
            let db = ctx.open_db().await?;
            let a = store::add_account(&db, &input, hash).await?;
            let login = if no_password {
                " (no password: set one with `sagasync profiles set-password`)"
            } else {
                ""
            };
            println!("created account {} <{}>{login}", a.id, a.email);
        }
        ProfilesCommand::List { format } => {
            let db = ctx.open_db().await?;
            let rows: Vec<AccountView> = store::list_accounts(&db)
                .await?
                .into_iter()
                .map(AccountView::from)
                .collect();
            return write_list(
                format.get(),
                &rows,
                "no accounts (add one with `sagasync profiles add --email EMAIL --name NAME`)",
                PROFILES_LAYOUT,
            );
        }
        ProfilesCommand::Show { account, format } => {
            let db = ctx.open_db().await?;
            let a = store::resolve(&db, &account).await?;
            let p = store::profile(&db, a.id).await?;
            write_record(format.get(), &p, stdout())?;
        }
        ProfilesCommand::Remove { account, yes } => {
            let db = ctx.open_db().await?;
            let a = store::resolve(&db, &account).await?;
            if !yes {
                match confirm(&format!(
                    "remove account {} <{}> and its profile?",
                    a.id, a.email
                ))? {
                    Some(true) => {}
                    Some(false) => bail!("nothing removed"),
                    None => bail!(
                        "not removing account {} without confirmation: add --yes",
                        a.id
                    ),
                }
            }
            let a = store::remove_account(&db, a.id).await?;
            println!("removed account {} <{}>", a.id, a.email);
        }
        ProfilesCommand::SetPassword { account } => {
            let db = ctx.open_db().await?;
            let a = store::resolve(&db, &account).await?;
            let password = read_secret("new password: ")?;
            let hash = checked_hash(password, &a.email).await?;
            let a = store::set_password_hash(&db, a.id, hash).await?;
            println!(
                "password of account {} <{}> set; its tokens are revoked",
                a.id, a.email
            );
        }
        ProfilesCommand::Disable { account, enable } => {
            let db = ctx.open_db().await?;
            let a = store::resolve(&db, &account).await?;
            let a = store::set_disabled(&db, a.id, !enable).await?;
            if a.disabled {
                println!(
                    "account {} <{}> is disabled; its tokens are revoked",
                    a.id, a.email
                );
            } else {
                println!("account {} <{}> is enabled", a.id, a.email);
            }
        }
        ProfilesCommand::Export { account } => {
            let db = ctx.open_db().await?;
            let a = store::resolve(&db, &account).await?;
            let p = store::profile(&db, a.id).await?;
            write_record(super::format::Format::Json, &p, stdout())?;
        }
        ProfilesCommand::Import { file } => {
            let text = read_document(&file)?;
            let doc: ProfileImport = serde_json::from_str(&text).with_context(|| {
                format!("{file} is not a profile export (`sagasync profiles export` writes one)")
            })?;
            let db = ctx.open_db().await?;
            let p = store::import(&db, &doc).await?;
            println!(
                "imported account {} <{}>: {} skill(s), {} experience(s), {} education entr(y/ies); \
                 set its password with `sagasync profiles set-password {}`",
                p.account.id,
                p.account.email,
                p.skills.len(),
                p.experiences.len(),
                p.education.len(),
                p.account.id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The password checked against the rules, then hashed (off the runtime's threads).
async fn checked_hash(password: Secret, email: &str) -> anyhow::Result<String> {
    auth::check_password(&password, email).map_err(anyhow::Error::msg)?;
    tokio::task::spawn_blocking(move || auth::hash_password(&password)).await?
}

/// Largest profile file read, in bytes.
const MAX_IMPORT_BYTES: u64 = 4 * 1024 * 1024;

fn read_document(file: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    let read = if file == "-" {
        std::io::stdin()
            .take(MAX_IMPORT_BYTES + 1)
            .read_to_string(&mut text)
            .context("cannot read standard input")?
    } else {
        std::fs::File::open(file)
            .with_context(|| format!("cannot open {file}"))?
            .take(MAX_IMPORT_BYTES + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read {file} (a UTF-8 JSON file is expected)"))?
    };
    if read as u64 > MAX_IMPORT_BYTES {
        bail!(
            "{file} is larger than {} MiB: not a profile export",
            MAX_IMPORT_BYTES >> 20
        );
    }
    Ok(text)
}

/// What a narrow terminal leaves out of `profiles list` first.
const PROFILES_LAYOUT: Layout = Layout {
    drop: &["updated_at", "created_at", "phone"],
};
