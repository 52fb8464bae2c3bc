//! `sagasync rome show CODE` and `sagasync match-skills --rome CODE --skills "..."`:
//! the skills side of the stored France Travail offers.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::Context;
use super::values::rome_code;
use crate::skills::{SkillsError, match_stored, rome_profile, split_skills};

/// How a skills answer is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shape {
    Table,
    Json,
    /// `rome show`: one row per skill; `match-skills`: one row per skill of the profile
    /// shown (matched, then missing)
    Csv,
}

#[derive(Debug, Args)]
pub struct RomeArgs {
    #[command(subcommand)]
    pub command: RomeCommand,
}

#[derive(Debug, Subcommand)]
pub enum RomeCommand {
    /// A job by its ROME code: offers, most requested skills, contracts, salaries, samples
    Show(RomeShowArgs),
}

#[derive(Debug, Args)]
pub struct RomeShowArgs {
    /// ROME code, e.g. G1602
    #[arg(value_parser = rome_code)]
    pub code: String,
    /// Skills listed at most
    #[arg(long, default_value_t = 15)]
    pub skills: usize,
    #[arg(long, value_enum, default_value_t = Shape::Table)]
    pub format: Shape,
}

#[derive(Debug, Args)]
pub struct MatchSkillsArgs {
    /// ROME code of the job, e.g. G1602
    #[arg(long, value_parser = rome_code)]
    pub rome: String,
    /// The person's skills, comma-separated ("accueil, service, hygiène")
    #[arg(long, allow_hyphen_values = true)]
    pub skills: String,
    #[arg(long, value_enum, default_value_t = Shape::Table)]
    pub format: Shape,
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    t
}

fn pct(f: f64) -> String {
    format!("{:.0}%", f * 100.0)
}

pub async fn run_rome(args: RomeArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let RomeCommand::Show(args) = args.command;
    let db = ctx.open_db().await?;
    let Some(mut p) = rome_profile(&db, &args.code).await? else {
        return Err(SkillsError::UnknownRome(args.code).into());
    };
    p.skills.truncate(args.skills);
    match args.format {
        Shape::Json => {
            println!("{}", serde_json::to_string(&p)?);
            return Ok(ExitCode::SUCCESS);
        }
        Shape::Csv => {
            let mut csv = csv::Writer::from_writer(std::io::stdout().lock());
            csv.write_record(["rome_code", "skill", "offers", "frequency"])?;
            for s in &p.skills {
                csv.write_record([
                    p.rome_code.clone(),
                    s.libelle.clone(),
                    s.offers.to_string(),
                    s.frequency.to_string(),
                ])?;
            }
            csv.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        Shape::Table => {}
    }
    println!(
        "{} {} — {} stored offers\n",
        p.rome_code,
        p.rome_libelle.as_deref().unwrap_or("(no label)"),
        p.offers
    );
    let mut skills = table(&["skill", "offers", "share"]);
    for s in &p.skills {
        skills.add_row([s.libelle.clone(), s.offers.to_string(), pct(s.frequency)]);
    }
    println!("Most requested skills\n{skills}\n");
    let mut contracts = table(&["contract", "offers", "share"]);
    for c in &p.contracts {
        contracts.add_row([c.value.clone(), c.offers.to_string(), pct(c.share)]);
    }
    println!("Contracts\n{contracts}\n");
    let mut salaries = table(&["salary", "offers"]);
    for s in &p.salaries {
        salaries.add_row([s.value.clone(), s.offers.to_string()]);
    }
    println!("Salaries seen\n{salaries}\n");
    let mut samples = table(&["id", "title", "place", "contract"]);
    for s in &p.samples {
        samples.add_row([
            s.id.clone(),
            s.intitule.clone().unwrap_or_default(),
            s.lieu.clone().unwrap_or_default(),
            s.type_contrat.clone().unwrap_or_default(),
        ]);
    }
    println!("Recent offers\n{samples}");
    Ok(ExitCode::SUCCESS)
}

pub async fn run_match(args: MatchSkillsArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    let skills = split_skills(&args.skills);
    let r = match_stored(&db, &args.rome, &skills).await?;
    match args.format {
        Shape::Json => {
            println!("{}", serde_json::to_string(&r)?);
            return Ok(ExitCode::SUCCESS);
        }
        Shape::Csv => {
            let mut csv = csv::Writer::from_writer(std::io::stdout().lock());
            csv.write_record([
                "rome_code",
                "match_score",
                "required_skill",
                "frequency",
                "status",
                "your_skill",
                "similarity",
            ])?;
            let score = r.match_score.to_string();
            for m in &r.matching_skills {
                csv.write_record([
                    &r.rome_code,
                    &score,
                    &m.matches,
                    &m.frequency.to_string(),
                    "matched",
                    &m.skill,
                    &m.similarity.to_string(),
                ])?;
            }
            for m in &r.missing_skills {
                csv.write_record([
                    &r.rome_code,
                    &score,
                    &m.libelle,
                    &m.frequency.to_string(),
                    "missing",
                    "",
                    "0",
                ])?;
            }
            csv.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        Shape::Table => {}
    }
    println!("{}: match score {:.2}\n", r.rome_code, r.match_score);
    let mut matching = table(&["your skill", "matches", "similarity", "asked by"]);
    for m in &r.matching_skills {
        matching.add_row([
            m.skill.clone(),
            m.matches.clone(),
            format!("{:.2}", m.similarity),
            pct(m.frequency),
        ]);
    }
    println!("Matching skills\n{matching}\n");
    let mut missing = table(&["missing skill", "asked by"]);
    for m in &r.missing_skills {
        missing.add_row([m.libelle.clone(), pct(m.frequency)]);
    }
    println!("Missing skills\n{missing}\n");
    println!("Recommendations");
    for rec in &r.recommendations {
        println!("  - {rec}");
    }
    Ok(ExitCode::SUCCESS)
}
