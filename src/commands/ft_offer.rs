//! `sagasync france-travail offer ID`: one offer's details fetched from France Travail,
//! stored or refreshed with its skills (the collect's upsert), and shown as
//! `offers show` shows it.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use super::Context;
use super::format::{FormatArgs, done, stdout, write_record};
use super::france_travail::FtConnArgs;
use crate::france_travail::{DEFAULT_RATE, FtClient};
use crate::inspect::offers;
use crate::sync::offers::{Stored, store_offer};

/// Longest offer id (as `parse::offer` takes them).
const MAX_ID_CHARS: usize = 32;

/// An offer id: letters and digits (`171XKPT`), so it is one segment of the URL.
fn offer_id(s: &str) -> Result<String, String> {
    let id = s.trim();
    if (1..=MAX_ID_CHARS).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "must be a France Travail offer id: 1 to {MAX_ID_CHARS} letters and digits, e.g. 171XKPT"
        ))
    }
}

#[derive(Debug, Args)]
pub struct OfferArgs {
    /// The offer's id at France Travail (e.g. 171XKPT)
    #[arg(value_parser = offer_id)]
    pub id: String,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub conn: FtConnArgs,
}

pub async fn run(args: OfferArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = FtClient::new(args.conn.settings(DEFAULT_RATE)?)?
        .with_http_options(ctx.global.http_options());
    let id = args.id;
    let raw = client
        .offer(&id)
        .await
        .with_context(|| format!("cannot read offer {id} from France Travail"))?;
    let Some(raw) = raw else {
        anyhow::bail!("no offer {id} at France Travail");
    };
    let db = ctx.open_db().await?;
    let stored = store_offer(&db, raw)
        .await
        .with_context(|| format!("offer {id} not stored"))?;
    for w in &stored.warnings {
        tracing::warn!("offer {id}: {w}");
    }
    let what = match stored.stored {
        Stored::Created => "stored",
        Stored::Updated => "refreshed (it had changed)",
        Stored::Unchanged => "already stored as it is",
    };
    tracing::info!("offer {id}: {what}");
    let offer = offers::get(&db, &id)
        .await?
        .with_context(|| format!("offer {id} was stored but cannot be read back"))?;
    done(write_record(args.format.get(), &offer, stdout()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_ids_are_one_url_segment() {
        assert_eq!(offer_id(" 171XKPT "), Ok("171XKPT".to_owned()));
        for bad in [
            "",
            "171/XKPT",
            "../x",
            "a b",
            "171XKPT?x=1",
            &"A".repeat(33),
        ] {
            assert!(offer_id(bad).is_err(), "{bad:?}");
        }
    }
}
