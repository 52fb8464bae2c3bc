//! `sagasync keys ...`: administer the encrypted API keys.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};

use super::Context;
use super::format::{FormatArgs, write_list};
use super::input::{confirm, read_secret};
use super::table::Layout;
use crate::crypto::Cipher;
use crate::keys;
use crate::secret::Secret;

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Store a key, read from stdin when piped or from a hidden prompt
    Add {
        /// A name to recognise the key by
        #[arg(long)]
        name: String,
        /// Make it the active key (the others are deactivated)
        #[arg(long)]
        activate: bool,
    },
    /// List the stored keys, masked
    List {
        /// JSON: an array of keys; CSV: a row per key
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Make a key the only active one
    Activate { id: i32 },
    /// Deactivate a key
    Deactivate { id: i32 },
    /// Delete a key
    Remove {
        id: i32,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
    /// Re-encrypt every stored key with a new encryption key, all or nothing
    RotateEncryption {
        /// The new Fernet key; read from stdin or a prompt when not set
        #[arg(long, env = "NEW_INVENTORY_ENCRYPTION_KEY", hide_env_values = true)]
        new_key: Option<Secret>,
    },
    /// Print a fresh Fernet key for INVENTORY_ENCRYPTION_KEY
    GenerateEncryptionKey,
}

pub async fn run(args: KeysArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    match args.command {
        KeysCommand::GenerateEncryptionKey => {
            println!("{}", Cipher::generate_key());
        }
        KeysCommand::Add { name, activate } => {
            let cipher = ctx.cipher()?;
            let secret = read_secret("API key: ")?;
            let db = ctx.open_db().await?;
            let key = keys::add(&db, &cipher, &name, &secret, activate).await?;
            let state = if key.is_active { "active" } else { "inactive" };
            println!("stored key {} \"{}\" ({state})", key.id, key.name);
        }
        KeysCommand::List { format } => {
            let db = ctx.open_db().await?;
            let cipher = ctx.cipher().ok();
            let views = keys::list(&db, cipher.as_ref()).await?;
            return write_list(
                format.get(),
                &views,
                "no stored API keys (add one with `sagasync keys add --name NAME --activate`)",
                KEYS_LAYOUT,
            );
        }
        KeysCommand::Activate { id } => {
            let db = ctx.open_db().await?;
            let key = keys::activate(&db, id).await?;
            println!("key {} \"{}\" is now the active key", key.id, key.name);
        }
        KeysCommand::Deactivate { id } => {
            let db = ctx.open_db().await?;
            let key = keys::deactivate(&db, id).await?;
            println!("key {} \"{}\" is inactive", key.id, key.name);
        }
        KeysCommand::Remove { id, yes } => remove(ctx, id, yes).await?,
        KeysCommand::RotateEncryption { new_key } => rotate(ctx, new_key).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(ctx: &Context, id: i32, yes: bool) -> anyhow::Result<()> {
    let db = ctx.open_db().await?;
    if !yes {
        let key = keys::get(&db, id).await?;
        match confirm(&format!("remove key {id} \"{}\"?", key.name))? {
            Some(true) => {}
            Some(false) => bail!("nothing removed"),
            None => bail!("not removing key {id} without confirmation: add --yes"),
        }
    }
    let key = keys::remove(&db, id).await?;
    println!("removed key {} \"{}\"", key.id, key.name);
    Ok(())
}

async fn rotate(ctx: &Context, new_key: Option<Secret>) -> anyhow::Result<()> {
    let old = ctx.cipher()?;
    let new_key = match new_key.filter(|k| !k.is_empty()) {
        Some(k) => k,
        None => read_secret("new encryption key: ")?,
    };
    let new = Cipher::new(new_key.expose()).with_context(|| {
        format!(
            "the new encryption key is not a valid Fernet key (url-safe base64 of 32 bytes): {}",
            crate::crypto::GENERATE_HINT
        )
    })?;
    if crate::crypto::normalize_key(new_key.expose())
        == ctx
            .global
            .encryption_key
            .as_ref()
            .map(|k| crate::crypto::normalize_key(k.expose()))
            .unwrap_or_default()
    {
        bail!("the new encryption key is the current one: nothing to rotate");
    }
    let db = ctx.open_db().await?;
    let count = keys::rotate_encryption(&db, &old, &new).await?;
    println!(
        "re-encrypted {count} key(s): set INVENTORY_ENCRYPTION_KEY to the new key now \
         (the old one no longer decrypts them)"
    );
    Ok(())
}

/// What a narrow terminal leaves out of `keys list` first.
const KEYS_LAYOUT: Layout = Layout {
    drop: &["last_used_at", "created_at"],
};
