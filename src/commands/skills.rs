//! `sagasync rome show CODE` and `sagasync match-skills --rome CODE --skills "..."`:
//! the skills side of the stored France Travail offers.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::Context;
use super::format::{Format, FormatArgs, figures_table};
use super::table::{self, Layout};
use super::values::rome_code;
use crate::skills::{
    MatchResult, RomeProfile, SkillMatch, SkillsError, match_stored, rome_profile, split_skills,
};

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
    #[arg(long, default_value_t = 15, value_parser = super::values::count)]
    pub skills: usize,
    /// CSV: `rome show` one row per skill; `match-skills` one row per skill of the
    /// profile shown (matched, then missing)
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct MatchSkillsArgs {
    /// ROME code of the job, e.g. G1602
    #[arg(long, value_parser = rome_code)]
    pub rome: String,
    /// The person's skills, comma-separated ("accueil, service, hygiène")
    #[arg(long, allow_hyphen_values = true)]
    pub skills: String,
    /// CSV: `rome show` one row per skill; `match-skills` one row per skill of the
    /// profile shown (matched, then missing)
    #[command(flatten)]
    pub format: FormatArgs,
}

fn pct(f: f64) -> String {
    format!("{:.0}%", f * 100.0)
}

/// Prints `value` as one JSON object.
fn print_json<T: Serialize>(value: &T) -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string(value)?);
    Ok(ExitCode::SUCCESS)
}

/// Prints `header` and the `records` as CSV.
fn print_csv<const N: usize>(
    header: [&str; N],
    records: impl IntoIterator<Item = [String; N]>,
) -> anyhow::Result<ExitCode> {
    let mut csv = csv::Writer::from_writer(std::io::stdout().lock());
    csv.write_record(header)?;
    for record in records {
        csv.write_record(record)?;
    }
    csv.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub async fn run_rome(args: RomeArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let RomeCommand::Show(args) = args.command;
    let db = ctx.open_db().await?;
    let Some(mut p) = rome_profile(&db, &args.code).await? else {
        return Err(SkillsError::UnknownRome(args.code).into());
    };
    p.skills.truncate(args.skills);
    match args.format.get() {
        Format::Json => print_json(&p),
        Format::Csv => print_csv(
            ["rome_code", "skill", "offers", "frequency"],
            p.skills.iter().map(|s| {
                [
                    p.rome_code.clone(),
                    s.libelle.clone(),
                    s.offers.to_string(),
                    s.frequency.to_string(),
                ]
            }),
        ),
        Format::Table => {
            print_profile(&p);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_profile(p: &RomeProfile) {
    println!(
        "{} {} — {} stored offers\n",
        p.rome_code,
        p.rome_libelle.as_deref().unwrap_or("(no label)"),
        table::count(p.offers)
    );
    let none = Layout::default();
    let skills: Vec<Vec<String>> = p
        .skills
        .iter()
        .map(|s| vec![s.libelle.clone(), s.offers.to_string(), pct(s.frequency)])
        .collect();
    let skills = figures_table(&["skill", "offers", "share"], &skills, &none);
    println!("Most requested skills\n{skills}\n");
    let contracts: Vec<Vec<String>> = p
        .contracts
        .iter()
        .map(|c| vec![c.value.clone(), c.offers.to_string(), pct(c.frequency)])
        .collect();
    let contracts = figures_table(&["contract", "offers", "share"], &contracts, &none);
    println!("Contracts\n{contracts}\n");
    let salaries: Vec<Vec<String>> = p
        .salaries
        .iter()
        .map(|s| vec![s.value.clone(), s.offers.to_string()])
        .collect();
    let salaries = figures_table(&["salary", "offers"], &salaries, &none);
    println!("Salaries seen\n{salaries}\n");
    let samples: Vec<Vec<String>> = p
        .samples
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                s.intitule.clone().unwrap_or_default(),
                s.lieu_libelle.clone().unwrap_or_default(),
                s.type_contrat.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let samples = figures_table(
        &["id", "title", "place", "contract"],
        &samples,
        &Layout {
            drop: &["contract", "place"],
        },
    );
    println!("Recent offers\n{samples}");
}

pub async fn run_match(args: MatchSkillsArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    let skills = split_skills(&args.skills);
    let r = match_stored(&db, &args.rome, &skills).await?;
    match args.format.get() {
        Format::Json => print_json(&r),
        Format::Csv => print_csv(
            [
                "rome_code",
                "match_score",
                "required_skill",
                "frequency",
                "status",
                "your_skill",
                "similarity",
            ],
            match_records(&r),
        ),
        Format::Table => {
            print_match(&r);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `match-skills` as CSV records: one per skill of the profile shown, matched (with the
/// person's skill that matches it), then missing; then one per skill of the person's
/// that matched nothing (`unmatched`, no required skill).
fn match_records(r: &MatchResult) -> Vec<[String; 7]> {
    let score = r.match_score.to_string();
    let record = |required: &str, frequency: f64, yours: Option<&SkillMatch>| {
        let (status, skill, similarity) = match yours {
            Some(m) => ("matched", m.skill.clone(), m.similarity.to_string()),
            None => ("missing", String::new(), "0".to_owned()),
        };
        [
            r.rome_code.clone(),
            score.clone(),
            required.to_owned(),
            frequency.to_string(),
            status.to_owned(),
            skill,
            similarity,
        ]
    };
    let matched = r
        .matching_skills
        .iter()
        .map(|m| record(&m.matches, m.frequency, Some(m)));
    let missing = r
        .missing_skills
        .iter()
        .map(|m| record(&m.libelle, m.frequency, None));
    let unmatched = r.unmatched_skills.iter().map(|skill| {
        [
            r.rome_code.clone(),
            score.clone(),
            String::new(),
            String::new(),
            "unmatched".to_owned(),
            skill.clone(),
            "0".to_owned(),
        ]
    });
    matched.chain(missing).chain(unmatched).collect()
}

fn print_match(r: &MatchResult) {
    println!("{}: match score {:.2}\n", r.rome_code, r.match_score);
    let matching: Vec<Vec<String>> = r
        .matching_skills
        .iter()
        .map(|m| {
            vec![
                m.skill.clone(),
                m.matches.clone(),
                format!("{:.2}", m.similarity),
                pct(m.frequency),
            ]
        })
        .collect();
    let matching = figures_table(
        &["your skill", "matches", "similarity", "asked by"],
        &matching,
        &Layout {
            drop: &["asked by", "similarity"],
        },
    );
    println!("Matching skills\n{matching}\n");
    let missing: Vec<Vec<String>> = r
        .missing_skills
        .iter()
        .map(|m| vec![m.libelle.clone(), pct(m.frequency)])
        .collect();
    let missing = figures_table(&["missing skill", "asked by"], &missing, &Layout::default());
    println!("Missing skills\n{missing}\n");
    if !r.unmatched_skills.is_empty() {
        let rows: Vec<Vec<String>> = r.unmatched_skills.iter().map(|s| vec![s.clone()]).collect();
        let unmatched = figures_table(
            &["your skill that matched nothing"],
            &rows,
            &Layout::default(),
        );
        println!("Unmatched skills\n{unmatched}\n");
    }
    println!("Recommendations");
    let width = table::width();
    for rec in &r.recommendations {
        let text = table::wrap(&format!("- {rec}"), width.saturating_sub(2).max(20));
        println!("  {}", text.replace('\n', "\n    "));
    }
}
