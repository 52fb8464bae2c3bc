//! `sagasync recommend --profile ID|EMAIL | --skills "..." [--commune INSEE --distance
//! KM]`: the jobs (ROME codes) a person's skills match best, with their best offers.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Args;

use super::Context;
use super::format::{Format, FormatArgs, emit, figures_table};
use super::table::Layout;
use super::values::list_limit;
use crate::profiles::store;
use crate::skills::recommend::{
    Near, RecommendError, RecommendOptions, Recommendation, profile_skills, recommend,
};
use crate::skills::split_skills;

#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// The account whose profile's skills (and work experiences) to use: id or email
    #[arg(
        long,
        value_name = "ID|EMAIL",
        required_unless_present = "skills",
        conflicts_with = "skills"
    )]
    pub profile: Option<String>,
    /// The person's skills, comma-separated ("accueil, service, hygiène")
    #[arg(long, allow_hyphen_values = true)]
    pub skills: Option<String>,
    /// INSEE code of a commune of the stored offers: offers shown are near it
    #[arg(long, value_name = "INSEE")]
    pub commune: Option<String>,
    /// Distance from the commune's position, in km
    #[arg(long, value_name = "KM", default_value_t = 30.0, requires = "commune", value_parser = distance)]
    pub distance: f64,
    /// Jobs shown at most
    #[arg(long, default_value_t = 10, value_parser = list_limit)]
    pub limit: u64,
    /// CSV: one row per job (skills and offers joined by "; ")
    #[command(flatten)]
    pub format: FormatArgs,
}

/// A distance in km: a number above 0, up to 20,000.
fn distance(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(d) if d > 0.0 && d <= 20_000.0 => Ok(d),
        _ => Err("must be a number of km above 0, up to 20,000 (e.g. 25 or 2.5)".to_owned()),
    }
}

pub async fn run(args: RecommendArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    let (skills, experience_codes) = match (&args.profile, &args.skills) {
        (Some(which), _) => {
            let account = store::resolve(&db, which).await?;
            profile_skills(&db, &account).await.map_err(|e| match e {
                RecommendError::EmptyProfile(email) => anyhow::anyhow!(
                    "the profile of {email} holds no skill: add some (`sagasync profiles import`, or the accounts API of `serve --accounts`), or give --skills"
                ),
                e => e.into(),
            })?
        }
        (None, Some(skills)) => (split_skills(skills), Vec::new()),
        (None, None) => anyhow::bail!("give --profile ID|EMAIL or --skills \"...\""),
    };
    let opts = RecommendOptions {
        skills,
        experience_codes,
        near: args.commune.map(|commune| Near {
            commune,
            distance_km: args.distance,
        }),
        limit: usize::try_from(args.limit).unwrap_or(usize::MAX),
    };
    let found = recommend(&db, &opts).await?;
    match args.format.get() {
        Format::Json => {
            let json = serde_json::to_string(&found)?;
            emit(|out| writeln!(out, "{json}"))
        }
        Format::Csv => {
            print_csv(&found)?;
            Ok(ExitCode::SUCCESS)
        }
        Format::Table => emit(|out| print_table(out, &found)),
    }
}

fn offers_text(r: &Recommendation) -> String {
    r.offers
        .iter()
        .map(|o| match o.distance_km {
            Some(d) => format!("{} ({d} km)", o.id),
            None => o.id.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn print_csv(found: &[Recommendation]) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(std::io::stdout().lock());
    csv.write_record([
        "rome_code",
        "rome_libelle",
        "match_score",
        "matching_skills",
        "missing_skills",
        "offers",
    ])?;
    for r in found {
        let matching: Vec<&str> = r
            .matching_skills
            .iter()
            .map(|m| m.matches.as_str())
            .collect();
        let missing: Vec<&str> = r
            .missing_skills
            .iter()
            .map(|m| m.libelle.as_str())
            .collect();
        csv.write_record([
            r.rome_code.clone(),
            r.rome_libelle.clone().unwrap_or_default(),
            r.match_score.to_string(),
            matching.join("; "),
            missing.join("; "),
            offers_text(r),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

fn print_table(out: &mut dyn Write, found: &[Recommendation]) -> io::Result<()> {
    if found.is_empty() {
        return writeln!(
            out,
            "no job's offers ask for these skills: say them the way offers do (`sagasync rome show CODE`)"
        );
    }
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|r| {
            vec![
                r.rome_code.clone(),
                r.rome_libelle.clone().unwrap_or_default(),
                format!("{:.2}", r.match_score),
                r.matching_skills.len().to_string(),
                r.missing_skills
                    .first()
                    .map(|m| m.libelle.clone())
                    .unwrap_or_default(),
                offers_text(r),
            ]
        })
        .collect();
    let table = figures_table(
        &["code", "job", "score", "matched", "first missing", "offers"],
        &rows,
        &Layout {
            drop: &["first missing", "matched", "offers"],
        },
    );
    writeln!(out, "{table}")
}
