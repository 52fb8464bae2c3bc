//! How a sync command reports its runs (`--format table|json|csv`): JSON is always an
//! array with one object per outcome (one run or several, one query or a sector's),
//! CSV a header and a row per outcome, a table is titled and fitted to the terminal
//! with notes under it; then the exit code. Each source supplies its columns, its rows
//! and its notes ([`Outcome`]); the rest is here.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::format::{Format, FormatArgs, figures_table};
use super::interrupt::interrupted_exit_code;
use super::table::Layout;
use crate::sync::{RunReport, RunStatusKind};

/// Item issues listed under the table of a command that reports one run (the catalog
/// syncs); JSON has them all, up to the report's limit.
pub const ISSUES_SHOWN: usize = 20;
/// Item issues listed per run under the table of a command that may report several.
pub const ISSUES_SHOWN_PER_RUN: usize = 10;

/// Flags every sync command takes.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub format: FormatArgs,
    /// Exit with 1 when any item failed (the run still completes)
    #[arg(long)]
    pub fail_on_errors: bool,
}

/// What a sync command shows of one of its outcomes.
pub trait Outcome: Serialize {
    /// The columns of the table (and of CSV).
    const COLUMNS: &'static [&'static str];
    /// The columns a narrow terminal leaves out first.
    const LAYOUT: Layout;
    /// The run it reports, if one ran.
    fn run(&self) -> Option<&RunReport>;
    /// Its row of the table and of CSV, a cell per column (figures as plain digits), if
    /// it has one.
    fn row(&self) -> Option<Vec<String>>;
    /// The lines it adds under the table, indented.
    fn notes(&self) -> Vec<String>;
}

/// Prints `outcomes` (a JSON array, CSV with the notes on stderr, or the table titled
/// `title` and the notes) and picks the exit code: 1 when a run carries a message (said
/// on stderr), the interrupted code when a run was interrupted, 1 with
/// `--fail-on-errors` when an item failed, else 0.
pub fn render<T: Outcome>(
    title: &str,
    outcomes: &[T],
    args: &ReportArgs,
) -> anyhow::Result<ExitCode> {
    match args.format.get() {
        Format::Json => println!("{}", serde_json::to_string(outcomes)?),
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(std::io::stdout().lock());
            csv.write_record(T::COLUMNS)?;
            for row in outcomes.iter().filter_map(Outcome::row) {
                csv.write_record(row)?;
            }
            csv.flush()?;
            for note in outcomes.iter().flat_map(Outcome::notes) {
                eprintln!("{}", note.trim_start());
            }
        }
        Format::Table => {
            println!("{title}:\n{}", table(outcomes));
            for note in outcomes.iter().flat_map(Outcome::notes) {
                println!("{note}");
            }
        }
    }
    let runs: Vec<&RunReport> = outcomes.iter().filter_map(Outcome::run).collect();
    Ok(exit_code(&runs, args.fail_on_errors))
}

/// The exit code of a command that made `runs`; their messages are said on stderr.
fn exit_code(runs: &[&RunReport], fail_on_errors: bool) -> ExitCode {
    let mut said = false;
    for message in runs.iter().filter_map(|r| r.message.as_deref()) {
        eprintln!("error: {message}");
        said = true;
    }
    if said {
        ExitCode::from(1)
    } else if runs.iter().any(|r| r.status == RunStatusKind::Interrupted) {
        interrupted_exit_code()
    } else if fail_on_errors && runs.iter().any(|r| r.stats.errors > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The table of `outcomes`: their columns, a row for each that has one, fitted to the
/// terminal.
pub fn table<T: Outcome>(outcomes: &[T]) -> String {
    let rows: Vec<Vec<String>> = outcomes.iter().filter_map(Outcome::row).collect();
    figures_table(T::COLUMNS, &rows, &T::LAYOUT)
}

/// Columns of a run's figures, as every command shows them.
pub const STATS_HEADER: [&str; 10] = [
    "run_id",
    "kind",
    "status",
    "total",
    "created",
    "updated",
    "unchanged",
    "missing",
    "errors",
    "warnings",
];

/// What a narrow terminal leaves out of [`STATS_HEADER`] first.
pub const STATS_LAYOUT: Layout = Layout {
    drop: &["missing", "warnings", "run_id"],
};

/// A run's figures as a row of [`STATS_HEADER`], `kind` naming what it synced.
pub fn stats_row(report: &RunReport, kind: &str) -> Vec<String> {
    let s = &report.stats;
    let figures = [
        s.total,
        s.created,
        s.updated,
        s.unchanged,
        s.missing,
        s.errors,
        s.warnings,
    ];
    let mut row = vec![
        report.run_id.to_string(),
        kind.to_owned(),
        report.status.as_str().to_owned(),
    ];
    row.extend(figures.map(|n| n.to_string()));
    row
}

/// The first `shown` item issues of `run`, a line each: `  error [12] why`, or
/// `  warning [users 12] why` when `tag` names what the run synced.
pub fn issue_lines(run: &RunReport, shown: usize, tag: Option<&str>) -> Vec<String> {
    run.stats
        .errors_list
        .iter()
        .take(shown)
        .map(|issue| {
            let kind = if issue.warning { "warning" } else { "error" };
            let id = issue.external_id.as_deref().unwrap_or("?");
            match tag {
                Some(tag) => format!("  {kind} [{tag} {id}] {}", issue.error),
                None => format!("  {kind} [{id}] {}", issue.error),
            }
        })
        .collect()
}

/// `  … 17 more in run 4's errors`, when `run` counted more issues than the `shown`
/// first ones [`issue_lines`] listed.
pub fn more_issues_line(run: &RunReport, shown: usize) -> Option<String> {
    let s = &run.stats;
    let listed = s.errors_list.len().min(shown) as u64;
    let all = s.errors + s.warnings;
    (all > listed).then(|| format!("  … {} more in run {}'s errors", all - listed, run.run_id))
}

/// A run under the name of what it synced (`products`, `cerema users`): a row of
/// [`STATS_HEADER`] and its first issues; as JSON, the run's report with its `kind`.
#[derive(Debug, Serialize)]
pub struct KindRun<'a> {
    pub kind: &'a str,
    #[serde(flatten)]
    pub run: &'a RunReport,
}

impl Outcome for KindRun<'_> {
    const COLUMNS: &'static [&'static str] = &STATS_HEADER;
    const LAYOUT: Layout = STATS_LAYOUT;

    fn run(&self) -> Option<&RunReport> {
        Some(self.run)
    }

    fn row(&self) -> Option<Vec<String>> {
        Some(stats_row(self.run, self.kind))
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = issue_lines(self.run, ISSUES_SHOWN, None);
        notes.extend(more_issues_line(self.run, ISSUES_SHOWN));
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{ItemIssue, Stats};

    fn run_with_issues(issues: usize, errors: u64, warnings: u64) -> RunReport {
        let mut stats = Stats {
            errors,
            warnings,
            ..Stats::default()
        };
        stats.errors_list = (0..issues)
            .map(|i| ItemIssue {
                external_id: (i > 0).then(|| i.to_string()),
                error: format!("bad {i}"),
                warning: i % 2 == 1,
                payload: None,
            })
            .collect();
        RunReport {
            run_id: 4,
            status: RunStatusKind::Succeeded,
            message: None,
            stats,
        }
    }

    #[test]
    fn issue_lines_name_the_item_and_its_kind_when_tagged() {
        let run = run_with_issues(3, 2, 1);
        assert_eq!(
            issue_lines(&run, 10, None),
            [
                "  error [?] bad 0",
                "  warning [1] bad 1",
                "  error [2] bad 2"
            ]
        );
        assert_eq!(
            issue_lines(&run, 2, Some("users")),
            ["  error [users ?] bad 0", "  warning [users 1] bad 1"]
        );
    }

    #[test]
    fn the_issues_not_listed_are_counted_in_one_line() {
        // Listed: 2 of the 3 kept; the run counted 30.
        let run = run_with_issues(3, 20, 10);
        assert_eq!(
            more_issues_line(&run, 2).as_deref(),
            Some("  … 28 more in run 4's errors")
        );
        assert_eq!(more_issues_line(&run_with_issues(3, 2, 1), 10), None);
    }

    #[test]
    fn a_message_wins_over_an_interruption_and_errors_count_only_when_asked() {
        let clean = run_with_issues(0, 0, 0);
        let failed_items = run_with_issues(1, 1, 0);
        let interrupted = RunReport {
            status: RunStatusKind::Interrupted,
            ..run_with_issues(0, 0, 0)
        };
        assert_eq!(exit_code(&[&clean], true), ExitCode::SUCCESS);
        assert_eq!(exit_code(&[&failed_items], false), ExitCode::SUCCESS);
        assert_eq!(exit_code(&[&clean, &failed_items], true), ExitCode::from(1));
        assert_eq!(exit_code(&[&interrupted], false), ExitCode::from(130));
        let noted = RunReport {
            message: Some("none was marked missing".to_owned()),
            ..run_with_issues(0, 0, 0)
        };
        assert_eq!(exit_code(&[&noted], false), ExitCode::from(1));
    }
}
