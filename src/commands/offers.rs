//! `sagasync offers search|show`: the stored France Travail job offers.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::Context;
use super::format::{FormatArgs, done, stdout, write_filtered, write_record};
use super::table::Layout;
use super::values::{list_limit, offset, rome_code};
use crate::inspect::offers::{self, OfferFilter};

fn commune_code(s: &str) -> Result<String, String> {
    let c = s.trim().to_uppercase();
    if crate::inspect::offers::is_commune_code(&c) {
        Ok(c)
    } else {
        Err(format!(
            "{s:?} is not an INSEE commune code (5 characters: 75056, 2A004)"
        ))
    }
}

fn departement_code(s: &str) -> Result<String, String> {
    let d = s.trim().to_uppercase();
    if crate::inspect::offers::is_departement_code(&d) {
        Ok(d)
    } else {
        Err(format!("{s:?} is not a département code (75, 2A, 971)"))
    }
}

#[derive(Debug, Args)]
pub struct OffersArgs {
    #[command(subcommand)]
    pub command: OffersCommand,
}

#[derive(Debug, Subcommand)]
pub enum OffersCommand {
    /// Offers, newest first, by words, place, job and contract
    Search(OffersSearchArgs),
    /// One offer with its skills
    Show(OffersShowArgs),
}

#[derive(Debug, Args)]
pub struct OffersSearchArgs {
    /// Words that must all occur in the title, job, company or description (accents and
    /// case ignored)
    #[arg(long)]
    pub q: Option<String>,
    /// INSEE code of a commune (repeat it, or separate with commas, for several)
    #[arg(long, value_delimiter = ',', value_parser = commune_code)]
    pub commune: Vec<String>,
    /// Département code (75, 2A, 971)
    #[arg(long, value_parser = departement_code)]
    pub departement: Option<String>,
    /// ROME code of the job (G1602)
    #[arg(long, value_parser = rome_code)]
    pub rome: Option<String>,
    /// Contract type code (CDI, CDD, MIS...)
    #[arg(long)]
    pub contract: Option<String>,
    /// Offers shown at most
    #[arg(long, default_value_t = 20, value_parser = list_limit)]
    pub limit: u64,
    /// Offers skipped before the first shown (same order, same filters)
    #[arg(long, default_value_t = 0, value_parser = offset)]
    pub offset: u64,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct OffersShowArgs {
    /// The offer's id (e.g. 1867XWR)
    pub id: String,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// What a narrow terminal leaves out of `offers search` first: the place and company
/// details; id, title, contract and date stay longest.
const OFFERS_LAYOUT: Layout = Layout {
    drop: &[
        "commune",
        "departement",
        "salaire_libelle",
        "rome_code",
        "entreprise_nom",
        "lieu_libelle",
        "type_contrat",
    ],
};

pub async fn run(args: OffersArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    match args.command {
        OffersCommand::Search(args) => {
            let filter = OfferFilter {
                q: args.q,
                commune: args.commune,
                departement: args.departement,
                rome: args.rome,
                rome_codes: Vec::new(),
                contract: args.contract,
                limit: args.limit,
                offset: args.offset,
            };
            // Page by page: an export of every stored offer never sits in memory.
            write_filtered(
                args.format.get(),
                &filter,
                "no offer matched",
                OFFERS_LAYOUT,
                (
                    async |page: &OfferFilter| Ok(offers::search(&db, page).await?),
                    async |all: &OfferFilter| Ok(offers::count(&db, all).await?),
                ),
            )
            .await
        }
        OffersCommand::Show(args) => {
            let Some(offer) = offers::get(&db, &args.id).await? else {
                anyhow::bail!(
                    "no offer {:?}: `sagasync offers search` shows the stored offers",
                    args.id
                );
            };
            done(write_record(args.format.get(), &offer, stdout()))
        }
    }
}
