//! `--format table|json|csv`: how every inspection command renders its rows.
//!
//! A list streams: JSON is written `[`, row, `,` row ..., `]` as rows arrive, CSV a
//! header then one record per row; only a table (made for people, and sized to the
//! terminal) waits for its last row. A single record (`show`, `db stats`) is a JSON
//! object, a two-column table (its lists as tables below it), or one CSV record whose
//! lists are JSON text.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::{Deserialize, Serialize};

use super::fields::{Node, columns, flatten, to_node};
use crate::inspect::cerema::{StructureFilter, UserFilter};
use crate::inspect::offers::OfferFilter;
use crate::inspect::runs::RunFilter;

/// Longest cell of a list table, in characters; longer text ends with `…`.
pub const LIST_CELL_CHARS: usize = 60;
/// Longest value of a record table (a description, an error message).
pub const RECORD_CELL_CHARS: usize = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, fitted to the terminal's width
    Table,
    /// A JSON array of objects (an object for one record)
    Json,
    /// A header row, then one row per item
    Csv,
}

/// The `--format` flag every inspection command takes.
#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// A table with the project's look, as wide as the terminal when stdout is one (or
/// `COLUMNS` when set); otherwise lines are not wrapped.
pub fn new_table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_truncation_indicator("…");
    if !io::stdout().is_terminal()
        && let Some(width) = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<u16>().ok())
    {
        table.set_width(width);
    }
    table
}

/// A table with the project's look whose lines are never wrapped nor cut: the
/// figures of runs, summaries, benchmarks.
pub fn plain_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    table
}

/// `s` on one line, cut to `max` characters with `…`; an RFC 3339 UTC instant as
/// `2026-11-22 14:04:29`.
pub fn cell(s: &str, max: usize) -> String {
    if s.len() >= 20
        && s.as_bytes().get(10) == Some(&b'T')
        && let Ok(t) = chrono::DateTime::parse_from_rfc3339(s)
    {
        return t.to_utc().format("%Y-%m-%d %H:%M:%S").to_string();
    }
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Writes the rows of a list in one format. Call `row` for each, then `finish`.
pub struct ListWriter<W: Write> {
    format: Format,
    header: &'static [&'static str],
    out: W,
    rows: u64,
    table_rows: Vec<Vec<String>>,
}

impl<W: Write> ListWriter<W> {
    /// A writer of rows of type `T` (its fields are the columns).
    pub fn new<T: Serialize + for<'de> Deserialize<'de>>(format: Format, out: W) -> Self {
        Self::with_header(format, columns::<T>(), out)
    }

    /// A writer whose columns are `header` (the rows' field names).
    pub fn with_header(format: Format, header: &'static [&'static str], out: W) -> Self {
        ListWriter {
            format,
            header,
            out,
            rows: 0,
            table_rows: Vec::new(),
        }
    }

    pub fn row<T: Serialize>(&mut self, row: &T) -> anyhow::Result<()> {
        match self.format {
            Format::Json => {
                self.out
                    .write_all(if self.rows == 0 { b"[\n" } else { b",\n" })?;
                serde_json::to_writer(&mut self.out, row)?;
            }
            Format::Csv => {
                let cells = self.cells(row, None)?;
                let mut csv = csv::Writer::from_writer(&mut self.out);
                if self.rows == 0 {
                    csv.write_record(self.header)?;
                }
                csv.write_record(cells)?;
                csv.flush()?;
            }
            Format::Table => {
                let cells = self.cells(row, Some(LIST_CELL_CHARS))?;
                self.table_rows.push(cells);
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The row's values in header order (nested values as JSON text), shortened for a
    /// table when `max` is given.
    fn cells<T: Serialize>(&self, row: &T, max: Option<usize>) -> anyhow::Result<Vec<String>> {
        let fields = flatten(&to_node(row)?);
        Ok(self
            .header
            .iter()
            .map(|h| {
                fields
                    .iter()
                    .find(|(k, _)| k == h)
                    .map(|(_, v)| match max {
                        Some(max) => cell(v, max),
                        None => v.clone(),
                    })
                    .unwrap_or_default()
            })
            .collect())
    }

    /// Ends the output (`]`, the CSV header when no row came, the table); `empty` is
    /// the line a table prints when there were no rows. Returns the number of rows.
    pub fn finish(mut self, empty: &str) -> anyhow::Result<u64> {
        match self.format {
            Format::Json => {
                self.out
                    .write_all(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })?;
            }
            Format::Csv => {
                if self.rows == 0 {
                    let mut csv = csv::Writer::from_writer(&mut self.out);
                    csv.write_record(self.header)?;
                    csv.flush()?;
                }
            }
            Format::Table => {
                let mut table = new_table();
                let mut header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
                let mut rows = std::mem::take(&mut self.table_rows);
                if let Some(width) = table.width()
                    && fit(&mut header, &mut rows, usize::from(width))
                {
                    table.set_content_arrangement(ContentArrangement::Disabled);
                }
                table.set_header(header);
                for r in rows {
                    table.add_row(r);
                }
                writeln!(self.out, "{table}")?;
                if self.rows == 0 {
                    writeln!(self.out, "{empty}")?;
                }
            }
        }
        self.out.flush()?;
        Ok(self.rows)
    }
}

/// Narrowest a column is cut to so a list table fits the terminal.
const MIN_COLUMN_CHARS: usize = 6;
/// Widest a header makes its column when the table must be narrowed; longer headers
/// wrap at `_`.
const HEADER_CHARS: usize = 12;

/// Fits a list table to `width` terminal columns with one line per row: the widest
/// columns give up characters first (one cap for all of them, never below
/// [`MIN_COLUMN_CHARS`]), cut text ending with `…`, long headers wrapped at `_`.
/// Returns false (nothing changed) when the table fits as it is, or cannot fit even so.
pub fn fit(header: &mut [String], rows: &mut [Vec<String>], width: usize) -> bool {
    let n = header.len();
    let chars = |s: &String| s.chars().count();
    // Borders and padding of UTF8_FULL_CONDENSED: `│ a ┆ b │` is 3 per column, plus 1.
    let available = width.saturating_sub(3 * n + 1);
    let cells: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(chars)
                .max()
                .unwrap_or(0)
        })
        .collect();
    if (0..n)
        .map(|i| cells[i].max(chars(&header[i])))
        .sum::<usize>()
        <= available
    {
        return false;
    }
    let natural: Vec<usize> = (0..n)
        .map(|i| cells[i].max(chars(&header[i]).min(HEADER_CHARS)))
        .collect();
    let total = |cap: usize| natural.iter().map(|&w| w.min(cap)).sum::<usize>();
    let widest = natural.iter().copied().max().unwrap_or(0);
    let Some(cap) = (MIN_COLUMN_CHARS..=widest)
        .rev()
        .find(|&cap| total(cap) <= available)
    else {
        return false;
    };
    for (i, h) in header.iter_mut().enumerate() {
        *h = wrap_header(h, natural[i].min(cap));
    }
    for c in rows.iter_mut().flat_map(|r| r.iter_mut()) {
        if chars(c) > cap {
            *c = cell(c, cap);
        }
    }
    true
}

/// `discount_price` in lines of at most `width` characters, cut after `_` where it can.
fn wrap_header(h: &str, width: usize) -> String {
    let width = width.max(1);
    let mut lines: Vec<String> = vec![String::new()];
    for word in h.split_inclusive('_') {
        let mut word: Vec<char> = word.chars().collect();
        while !word.is_empty() {
            let line = lines.last_mut().expect("one line at least");
            let room = width - line.chars().count();
            if word.len() <= room {
                line.extend(word.drain(..));
            } else if line.is_empty() {
                line.extend(word.drain(..width));
            } else {
                lines.push(String::new());
            }
        }
    }
    lines.join("\n")
}

/// Writes one record: a JSON object, a field/value table with a table per list, or a
/// CSV header and one record.
pub fn write_record<T: Serialize, W: Write>(
    format: Format,
    record: &T,
    mut out: W,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, record)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let fields = flatten(&to_node(record)?);
            let mut csv = csv::Writer::from_writer(&mut out);
            csv.write_record(fields.iter().map(|(k, _)| k))?;
            csv.write_record(fields.iter().map(|(_, v)| v))?;
            csv.flush()?;
        }
        Format::Table => record_table(&to_node(record)?, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// Scalars (nested objects as `a.b`) in a field/value table, then each list of objects
/// as a table of its own.
fn record_table(node: &Node, out: &mut impl Write) -> anyhow::Result<()> {
    let Node::Map(entries) = node else {
        writeln!(out, "{}", node.text())?;
        return Ok(());
    };
    let mut main = new_table();
    main.set_header(["field", "value"]);
    let mut lists = Vec::new();
    for (key, value) in entries {
        match value {
            Node::List(items) if items.iter().any(|i| matches!(i, Node::Map(_))) => {
                lists.push((key, items));
            }
            Node::List(items) if items.is_empty() => {
                main.add_row([key.clone(), "(none)".to_owned()]);
            }
            Node::Map(_) => {
                for (k, v) in flatten(value) {
                    main.add_row([format!("{key}.{k}"), cell(&v, RECORD_CELL_CHARS)]);
                }
            }
            other => {
                main.add_row([key.clone(), cell(&other.text(), RECORD_CELL_CHARS)]);
            }
        }
    }
    writeln!(out, "{main}")?;
    for (key, items) in lists {
        let rows: Vec<Vec<(String, String)>> = items.iter().map(flatten).collect();
        let mut header: Vec<String> = Vec::new();
        for (k, _) in rows.iter().flatten() {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
        let mut table = new_table();
        table.set_header(header.clone());
        for r in &rows {
            table.add_row(header.iter().map(|h| {
                r.iter()
                    .find(|(k, _)| k == h)
                    .map(|(_, v)| cell(v, LIST_CELL_CHARS))
                    .unwrap_or_default()
            }));
        }
        writeln!(out, "\n{key} ({}):\n{table}", items.len())?;
    }
    Ok(())
}

/// Whether `e` is a closed pipe (`| head`): what was asked for was written.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<csv::Error>().is_some_and(|e| {
                matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::BrokenPipe)
            })
    })
}

/// The command's result, a closed pipe counting as success.
pub fn done(result: anyhow::Result<()>) -> anyhow::Result<ExitCode> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e),
    }
}

/// Stdout for a command's output: buffered, and `Send` (unlike a lock of it).
pub fn stdout() -> io::BufWriter<io::Stdout> {
    io::BufWriter::new(io::stdout())
}

/// Rows a paged list asks the library for at a time.
pub const PAGE: u64 = 1_000;

/// Writes `rows` as a list to stdout.
pub fn write_list<T>(format: Format, rows: &[T], empty: &str) -> anyhow::Result<ExitCode>
where
    T: Serialize + for<'de> Deserialize<'de>,
{
    let mut out = ListWriter::new::<T>(format, stdout());
    let written = (|| {
        for r in rows {
            out.row(r)?;
        }
        out.finish(empty).map(drop)
    })();
    done(written)
}

/// Writes up to `limit` rows to stdout, asking `fetch(limit, offset)` for `PAGE` at a
/// time: memory holds one page, however many rows there are.
pub async fn write_pages<T, F>(
    format: Format,
    limit: u64,
    empty: &str,
    mut fetch: F,
) -> anyhow::Result<ExitCode>
where
    T: Serialize + for<'de> Deserialize<'de>,
    F: AsyncFnMut(u64, u64) -> anyhow::Result<Vec<T>>,
{
    let mut out = ListWriter::new::<T>(format, stdout());
    let mut written = 0;
    while written < limit {
        let take = PAGE.min(limit - written);
        let rows = fetch(take, written).await?;
        let got = rows.len() as u64;
        for r in &rows {
            if let Err(e) = out.row(r) {
                return done(Err(e));
            }
        }
        written += got;
        if got < take {
            break;
        }
    }
    done(out.finish(empty).map(drop))
}

/// An inspection filter: what a list selects, and the page of it to ask for.
pub trait Paged: Clone {
    /// Rows the whole list holds at most (`--limit`).
    fn limit(&self) -> u64;
    /// The same filter, asking for `limit` rows from `offset`.
    fn page(&self, limit: u64, offset: u64) -> Self;
}

/// Implements [`Paged`] for filters whose `limit` and `offset` fields say the page.
macro_rules! paged {
    ($($filter:ty),+) => {$(
        impl Paged for $filter {
            fn limit(&self) -> u64 {
                self.limit
            }

            fn page(&self, limit: u64, offset: u64) -> Self {
                Self {
                    limit,
                    offset,
                    ..self.clone()
                }
            }
        }
    )+};
}

paged!(UserFilter, StructureFilter, RunFilter, OfferFilter);

/// Writes the rows `filter` selects, up to its limit, asking `fetch` for one page of
/// them at a time (see [`write_pages`]).
pub async fn write_filtered<T, P, F>(
    format: Format,
    filter: &P,
    empty: &str,
    mut fetch: F,
) -> anyhow::Result<ExitCode>
where
    T: Serialize + for<'de> Deserialize<'de>,
    P: Paged,
    F: AsyncFnMut(&P) -> anyhow::Result<Vec<T>>,
{
    write_pages(format, filter.limit(), empty, async |limit, offset| {
        fetch(&filter.page(limit, offset)).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_wide_table_is_cut_to_the_width_widest_columns_first() {
        let mut header = strings(&["id", "title", "is_available"]);
        let mut rows = vec![
            strings(&["1", "Beurre de karité fort Nido", "true"]),
            strings(&["22", "Fonio", "false"]),
        ];
        // 3 columns: 10 for borders, 30 for the text: 2 + 16 + 12.
        assert!(fit(&mut header, &mut rows, 40));
        assert_eq!(rows[0], ["1", "Beurre de karit…", "true"]);
        assert_eq!(rows[1], ["22", "Fonio", "false"]);
        assert_eq!(header, ["id", "title", "is_available"]);
        // Narrower: every column capped at 9, the header wrapped.
        let mut narrow = (header.clone(), rows.clone());
        assert!(fit(&mut narrow.0, &mut narrow.1, 30));
        assert_eq!(narrow.1[0], ["1", "Beurre d…", "true"]);
        assert_eq!(narrow.0, ["id", "title", "is_\navailable"]);
        let mut table = new_table();
        table
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(header.clone());
        for r in &rows {
            table.add_row(r.clone());
        }
        let text = table.to_string();
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");

        // Fits already: untouched.
        let mut same = rows.clone();
        assert!(!fit(&mut header.clone(), &mut same, 200));
        assert_eq!(same, rows);
        // Cannot fit even at the narrowest: untouched, the table wraps.
        assert!(!fit(&mut header.clone(), &mut same, 12));
        assert_eq!(same, rows);
    }

    #[test]
    fn headers_wrap_after_underscores() {
        assert_eq!(wrap_header("discount_price", 9), "discount_\nprice");
        assert_eq!(wrap_header("sync_status", 6), "sync_\nstatus");
        assert_eq!(wrap_header("is_available", 6), "is_\navaila\nble");
        assert_eq!(wrap_header("id", 6), "id");
    }
}
