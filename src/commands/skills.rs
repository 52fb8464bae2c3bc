//! `sagasync rome show CODE|LABEL`, `sagasync rome search TEXT` and `sagasync
//! match-skills --rome CODE --skills "..."`: the jobs and skills side of the stored
//! France Travail offers.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use sea_orm::DatabaseConnection;

use super::Context;
use super::format::{Format, FormatArgs, Listing, emit, figures_table, write_pages};
use super::table::{self, Layout};
use super::values::{list_limit, offset, rome_code};
use crate::inspect::rome::{self, Named};
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
    /// A job by its ROME code or its label: offers, most requested skills, contracts,
    /// salaries, samples
    Show(RomeShowArgs),
    /// ROME codes whose label or a job title holds every word, most stored offers first
    Search(RomeSearchArgs),
}

/// Words to look for: text holding a letter or a digit.
fn words(s: &str) -> Result<String, String> {
    if crate::inspect::search_words(s).is_empty() {
        Err("must hold a word: letters or digits".to_owned())
    } else {
        Ok(s.to_owned())
    }
}

#[derive(Debug, Args)]
pub struct RomeShowArgs {
    /// ROME code (G1602), or label (personnel de cuisine: accents and case ignored)
    #[arg(required = true, num_args = 1.., value_name = "CODE|LABEL", value_parser = words)]
    pub job: Vec<String>,
    /// Skills listed at most
    #[arg(long, default_value_t = 15, value_parser = super::values::count)]
    pub skills: usize,
    /// CSV: `rome show` one row per skill; `match-skills` one row per skill of the
    /// profile shown (matched, then missing)
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct RomeSearchArgs {
    /// Words the ROME label or one of its job titles must all hold (accents and case
    /// ignored)
    #[arg(required = true, num_args = 1.., value_name = "TEXT", value_parser = words)]
    pub text: Vec<String>,
    /// Codes shown at most
    #[arg(long, default_value_t = 20, value_parser = list_limit)]
    pub limit: u64,
    /// Codes skipped before the first shown (same order)
    #[arg(long, default_value_t = 0, value_parser = offset)]
    pub offset: u64,
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
    let json = serde_json::to_string(value)?;
    emit(|out| writeln!(out, "{json}"))
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
    let db = ctx.open_db().await?;
    match args.command {
        RomeCommand::Show(args) => run_show(args, &db).await,
        RomeCommand::Search(args) => run_search(args, &db).await,
    }
}

/// Codes an ambiguous label lists at most.
const CANDIDATES_SHOWN: usize = 10;

/// The ROME code `job` is, or names (a label): an error saying so when it names none,
/// or several (listing them).
async fn rome_code_of(db: &DatabaseConnection, job: &str) -> anyhow::Result<String> {
    if let Some(code) = crate::skills::rome_code(job) {
        return Ok(code);
    }
    match rome::named(db, job).await? {
        Named::One(code) => Ok(code),
        Named::None => anyhow::bail!(
            "no ROME code of the stored offers has a label or a job title holding every word of {job:?}: \
             try fewer words (`sagasync rome search WORDS`)"
        ),
        Named::Several(codes) => {
            let mut listed: Vec<String> = codes
                .iter()
                .take(CANDIDATES_SHOWN)
                .map(|c| {
                    format!(
                        "{} {} ({} offers)",
                        c.rome_code.as_deref().unwrap_or_default(),
                        c.rome_libelle.as_deref().unwrap_or("(no label)"),
                        table::count(c.offers)
                    )
                })
                .collect();
            if codes.len() > CANDIDATES_SHOWN {
                listed.push(format!(
                    "and {} more (`sagasync rome search {job}`)",
                    codes.len() - CANDIDATES_SHOWN
                ));
            }
            let first = codes[0].rome_code.as_deref().unwrap_or_default();
            anyhow::bail!(
                "{job:?} names several ROME codes: {}; give one of them (`sagasync rome show {first}`)",
                listed.join(", ")
            )
        }
    }
}

async fn run_search(args: RomeSearchArgs, db: &DatabaseConnection) -> anyhow::Result<ExitCode> {
    let text = args.text.join(" ");
    let codes = rome::codes_matching(db, &text).await?;
    let empty = format!("no ROME code's label or job title holds every word of {text:?}");
    let listing = Listing {
        empty: &empty,
        layout: Layout::default(),
        offset: args.offset,
        limit: args.limit,
    };
    write_pages(
        args.format.get(),
        listing,
        async |limit, offset| Ok(rome::counts(db, &codes, limit, offset).await?),
        async || Ok(codes.len() as u64),
    )
    .await
}

async fn run_show(args: RomeShowArgs, db: &DatabaseConnection) -> anyhow::Result<ExitCode> {
    let code = rome_code_of(db, &args.job.join(" ")).await?;
    let Some(mut p) = rome_profile(db, &code).await? else {
        return Err(SkillsError::UnknownRome(code).into());
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
        Format::Table => emit(|out| print_profile(out, &p)),
    }
}

fn print_profile(out: &mut dyn Write, p: &RomeProfile) -> io::Result<()> {
    writeln!(
        out,
        "{} {} — {} stored offers\n",
        p.rome_code,
        p.rome_libelle.as_deref().unwrap_or("(no label)"),
        table::count(p.offers)
    )?;
    let none = Layout::default();
    let skills: Vec<Vec<String>> = p
        .skills
        .iter()
        .map(|s| vec![s.libelle.clone(), s.offers.to_string(), pct(s.frequency)])
        .collect();
    let skills = figures_table(&["skill", "offers", "share"], &skills, &none);
    writeln!(out, "Most requested skills\n{skills}\n")?;
    let contracts: Vec<Vec<String>> = p
        .contracts
        .iter()
        .map(|c| vec![c.value.clone(), c.offers.to_string(), pct(c.frequency)])
        .collect();
    let contracts = figures_table(&["contract", "offers", "share"], &contracts, &none);
    writeln!(out, "Contracts\n{contracts}\n")?;
    let salaries: Vec<Vec<String>> = p
        .salaries
        .iter()
        .map(|s| vec![s.value.clone(), s.offers.to_string()])
        .collect();
    let salaries = figures_table(&["salary", "offers"], &salaries, &none);
    writeln!(out, "Salaries seen\n{salaries}\n")?;
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
    writeln!(out, "Recent offers\n{samples}")?;
    Ok(())
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
        Format::Table => emit(|out| print_match(out, &r)),
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

fn print_match(out: &mut dyn Write, r: &MatchResult) -> io::Result<()> {
    writeln!(out, "{}: match score {:.2}\n", r.rome_code, r.match_score)?;
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
    writeln!(out, "Matching skills\n{matching}\n")?;
    let missing: Vec<Vec<String>> = r
        .missing_skills
        .iter()
        .map(|m| vec![m.libelle.clone(), pct(m.frequency)])
        .collect();
    let missing = figures_table(&["missing skill", "asked by"], &missing, &Layout::default());
    writeln!(out, "Missing skills\n{missing}\n")?;
    if !r.unmatched_skills.is_empty() {
        let rows: Vec<Vec<String>> = r.unmatched_skills.iter().map(|s| vec![s.clone()]).collect();
        let unmatched = figures_table(
            &["your skill that matched nothing"],
            &rows,
            &Layout::default(),
        );
        writeln!(out, "Unmatched skills\n{unmatched}\n")?;
    }
    writeln!(out, "Recommendations")?;
    let width = table::width();
    for rec in &r.recommendations {
        let text = table::wrap(&format!("- {rec}"), width.saturating_sub(2).max(20));
        writeln!(out, "  {}", text.replace('\n', "\n    "))?;
    }
    Ok(())
}
