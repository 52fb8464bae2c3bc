//! `--format table|json|csv`: how every inspection command renders its rows.
//!
//! A list streams: JSON is written `[`, row, `,` row ..., `]` as rows arrive, CSV a
//! header then one record per row; only a table (made for people, and sized to the
//! terminal) waits for its last row. A single record (`show`, `db stats`) is a JSON
//! object, a two-column table (its lists as tables below it), or one CSV record whose
//! lists are JSON text.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use super::fields::{Node, columns, flatten, to_node};
use super::table::{self, Cell, Layout, Rendered, cell_of, figure};
use crate::inspect::cerema::{StructureFilter, UserFilter};
use crate::inspect::offers::OfferFilter;
use crate::inspect::runs::RunFilter;

/// Longest cell of a list table, in terminal columns; longer text ends with `…`.
pub const LIST_CELL_CHARS: usize = 60;
/// Longest value of a record table (a description, an error message).
pub const RECORD_CELL_CHARS: usize = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people, fitted to the terminal's width
    Table,
    /// JSON: an array of objects for a list, an object for one record
    Json,
    /// A header row, then one row per item
    Csv,
}

/// The `--format` flag every command that prints data takes, and `--json`, its
/// older spelling.
#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Same as --format json
    #[arg(long, hide = true, conflicts_with = "format")]
    pub json: bool,
}

impl FormatArgs {
    /// The format asked for (`--json` is `--format json`).
    pub fn get(&self) -> Format {
        if self.json { Format::Json } else { self.format }
    }
}

/// `rendered`, then a line naming the columns it left out (wrapped to `width`).
pub fn with_hidden_note(rendered: Rendered, width: usize) -> String {
    let mut text = rendered.text;
    if !rendered.hidden.is_empty() {
        let note = format!(
            "not shown at {width} columns: {} (--format csv shows every column)",
            rendered.hidden.join(", ")
        );
        text.push('\n');
        text.push_str(&table::wrap(&note, width));
    }
    text
}

/// A table of figures (sync reports, benchmarks, summaries) fitted to the terminal:
/// whole numbers grouped by thousands (not the identifier columns), a line naming the
/// columns left out.
pub fn figures_table(header: &[&str], rows: &[Vec<String>], layout: &Layout) -> String {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| header.iter().zip(r).map(|(h, v)| figure(h, v)).collect())
        .collect();
    let width = table::width();
    with_hidden_note(table::render(&header, &cells, layout, width), width)
}

/// The line a table prints under a page of a longer list: `50 of 2,000 shown; --offset
/// 50 for the next ones, or a larger --limit`. None when the page is the whole list.
pub fn shown_line(shown: u64, offset: u64, total: u64) -> Option<String> {
    let of = format!("{} of {}", table::count(shown), table::count(total));
    let end = offset.saturating_add(shown);
    if shown == 0 && offset > 0 && total > 0 {
        return Some(format!(
            "0 of {} shown: --offset {offset} is past the end",
            table::count(total)
        ));
    }
    match (offset, end < total) {
        (0, false) => None,
        (0, true) => Some(format!(
            "{of} shown; --offset {end} for the next ones, or a larger --limit"
        )),
        (_, true) => Some(format!(
            "{of} shown (from row {}); --offset {end} for the next ones",
            table::count(offset + 1)
        )),
        (_, false) => Some(format!(
            "{of} shown (from row {}, the last ones)",
            table::count(offset + 1)
        )),
    }
}

/// Writes the rows of a list in one format. Call `row` for each, then `finish`.
pub struct ListWriter<W: Write> {
    format: Format,
    header: &'static [&'static str],
    layout: Layout,
    out: W,
    rows: u64,
    table_rows: Vec<Vec<Cell>>,
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
            layout: Layout::default(),
            out,
            rows: 0,
            table_rows: Vec::new(),
        }
    }

    /// The columns a narrow terminal's table leaves out first.
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    pub fn row<T: Serialize>(&mut self, row: &T) -> anyhow::Result<()> {
        match self.format {
            Format::Json => {
                self.out
                    .write_all(if self.rows == 0 { b"[\n" } else { b",\n" })?;
                serde_json::to_writer(&mut self.out, row)?;
            }
            Format::Csv => {
                let fields = flatten(&to_node(row)?);
                let cells = self.header.iter().map(|h| {
                    fields
                        .iter()
                        .find(|(k, _)| k == h)
                        .map(|(_, v)| v.as_str())
                        .unwrap_or_default()
                });
                let mut csv = csv::Writer::from_writer(&mut self.out);
                if self.rows == 0 {
                    csv.write_record(self.header)?;
                }
                csv.write_record(cells)?;
                csv.flush()?;
            }
            Format::Table => {
                let node = to_node(row)?;
                let fields = match &node {
                    Node::Map(entries) => entries.as_slice(),
                    _ => &[],
                };
                let cells = self
                    .header
                    .iter()
                    .map(|h| match fields.iter().find(|(k, _)| k == h) {
                        Some((_, v)) => cell_of(h, v, LIST_CELL_CHARS),
                        None => cell_of(h, &Node::Null, LIST_CELL_CHARS),
                    })
                    .collect();
                self.table_rows.push(cells);
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Ends the output (`]`, the CSV header when no row came, the table); `empty` is
    /// the line a table prints when there were no rows, `page` the offset of the first
    /// row and the rows the whole list holds (a table says when it shows part of them).
    /// Returns the number of rows.
    pub fn finish(mut self, empty: &str, page: Option<(u64, u64)>) -> anyhow::Result<u64> {
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
                let width = table::width();
                let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
                let rows = std::mem::take(&mut self.table_rows);
                let rendered = table::render(&header, &rows, &self.layout, width);
                writeln!(self.out, "{}", with_hidden_note(rendered, width))?;
                if self.rows == 0 {
                    writeln!(self.out, "{empty}")?;
                }
                if let Some(line) =
                    page.and_then(|(offset, total)| shown_line(self.rows, offset, total))
                {
                    writeln!(self.out, "{}", table::wrap(&line, width))?;
                }
            }
        }
        self.out.flush()?;
        Ok(self.rows)
    }
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
/// as a table of its own; all fitted to the terminal's width.
fn record_table(node: &Node, out: &mut impl Write) -> anyhow::Result<()> {
    let Node::Map(entries) = node else {
        writeln!(out, "{}", node.text())?;
        return Ok(());
    };
    let width = table::width();
    let mut main = table::base_table(width);
    main.set_header(["field", "value"]);
    let mut lists = Vec::new();
    let mut add = |key: String, value: &Node| {
        let cell = cell_of(&key, value, RECORD_CELL_CHARS);
        main.add_row([key, cell.text]);
    };
    for (key, value) in entries {
        match value {
            Node::List(items) if items.iter().any(|i| matches!(i, Node::Map(_))) => {
                lists.push((key, items));
            }
            Node::List(items) if items.is_empty() => add(key.clone(), &Node::Text("(none)".into())),
            Node::Map(inner) => {
                for (k, v) in inner {
                    match v {
                        Node::Map(_) => {
                            for (kk, vv) in flatten(v) {
                                add(format!("{key}.{k}.{kk}"), &Node::Text(vv));
                            }
                        }
                        other => add(format!("{key}.{k}"), other),
                    }
                }
            }
            other => add(key.clone(), other),
        }
    }
    writeln!(out, "{main}")?;
    for (key, items) in lists {
        let rows: Vec<&[(String, Node)]> = items
            .iter()
            .map(|i| match i {
                Node::Map(entries) => entries.as_slice(),
                _ => &[],
            })
            .collect();
        let mut header: Vec<String> = Vec::new();
        for (k, _) in rows.iter().flat_map(|r| r.iter()) {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                header
                    .iter()
                    .map(|h| match r.iter().find(|(k, _)| k == h) {
                        Some((_, v)) => cell_of(h, v, LIST_CELL_CHARS),
                        None => cell_of(h, &Node::Null, LIST_CELL_CHARS),
                    })
                    .collect()
            })
            .collect();
        let rendered = table::render(&header, &cells, &Layout::default(), width);
        writeln!(
            out,
            "\n{key} ({}):\n{}",
            table::count(items.len() as u64),
            with_hidden_note(rendered, width)
        )?;
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

/// Writes what `write` writes to stdout; a closed pipe (`| head`) is success.
pub fn emit(write: impl FnOnce(&mut dyn io::Write) -> io::Result<()>) -> anyhow::Result<ExitCode> {
    let mut out = stdout();
    done(
        write(&mut out)
            .and_then(|()| io::Write::flush(&mut out))
            .map_err(anyhow::Error::from),
    )
}

/// Stdout for a command's output: buffered, and `Send` (unlike a lock of it).
pub fn stdout() -> io::BufWriter<io::Stdout> {
    io::BufWriter::new(io::stdout())
}

/// Rows a paged list asks the library for at a time.
pub const PAGE: u64 = 1_000;

/// Writes `rows`, the whole list, to stdout; a table leaves out the columns of
/// `layout` first when the terminal is narrow.
pub fn write_list<T>(
    format: Format,
    rows: &[T],
    empty: &str,
    layout: Layout,
) -> anyhow::Result<ExitCode>
where
    T: Serialize + for<'de> Deserialize<'de>,
{
    let mut out = ListWriter::new::<T>(format, stdout()).layout(layout);
    let written = (|| {
        for r in rows {
            out.row(r)?;
        }
        out.finish(empty, None).map(drop)
    })();
    done(written)
}

/// What a table says of a page of a list: the line shown when nothing matched, the
/// columns to leave out first, where the page starts.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    pub empty: &'a str,
    pub layout: Layout,
    pub offset: u64,
    pub limit: u64,
}

/// Writes up to `listing.limit` rows from `listing.offset` to stdout, asking
/// `fetch(limit, offset)` for `PAGE` at a time: memory holds one page, however many
/// rows there are (a table waits for its last row). A table ends with how many rows
/// the whole list holds when it shows part of them: `count` is asked for it then.
pub async fn write_pages<T, F, C>(
    format: Format,
    listing: Listing<'_>,
    mut fetch: F,
    count: C,
) -> anyhow::Result<ExitCode>
where
    T: Serialize + for<'de> Deserialize<'de>,
    F: AsyncFnMut(u64, u64) -> anyhow::Result<Vec<T>>,
    C: AsyncFnOnce() -> anyhow::Result<u64>,
{
    let mut out = ListWriter::new::<T>(format, stdout()).layout(listing.layout);
    let limit = listing.limit;
    let mut written = 0;
    while written < limit {
        let take = PAGE.min(limit - written);
        let rows = fetch(take, listing.offset.saturating_add(written)).await?;
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
    // Only a table says what part of the list it shows; a full first page needs no count.
    let page = if format == Format::Table && (written == limit || listing.offset > 0) {
        Some((listing.offset, count().await?))
    } else {
        None
    };
    done(out.finish(listing.empty, page).map(drop))
}

/// An inspection filter: what a list selects, and the page of it to ask for.
pub trait Paged: Clone {
    /// Rows the whole list holds at most (`--limit`).
    fn limit(&self) -> u64;
    /// The first row shown (`--offset`).
    fn offset(&self) -> u64;
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

            fn offset(&self) -> u64 {
                self.offset
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

/// Writes the rows `filter` selects from its offset, up to its limit, asking `fetch`
/// for one page of them at a time and `count` for all it selects (see [`write_pages`]).
pub async fn write_filtered<T, P, F, C>(
    format: Format,
    filter: &P,
    empty: &str,
    layout: Layout,
    (mut fetch, count): (F, C),
) -> anyhow::Result<ExitCode>
where
    T: Serialize + for<'de> Deserialize<'de>,
    P: Paged,
    F: AsyncFnMut(&P) -> anyhow::Result<Vec<T>>,
    C: AsyncFnOnce(&P) -> anyhow::Result<u64>,
{
    let listing = Listing {
        empty,
        layout,
        offset: filter.offset(),
        limit: filter.limit(),
    };
    write_pages(
        format,
        listing,
        async |limit, offset| fetch(&filter.page(limit, offset)).await,
        async || count(filter).await,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_a_longer_list_says_so() {
        assert_eq!(shown_line(50, 0, 50), None);
        assert_eq!(shown_line(3, 0, 3), None);
        assert_eq!(
            shown_line(50, 0, 2000).as_deref(),
            Some("50 of 2,000 shown; --offset 50 for the next ones, or a larger --limit")
        );
        assert_eq!(
            shown_line(50, 100, 2000).as_deref(),
            Some("50 of 2,000 shown (from row 101); --offset 150 for the next ones")
        );
        assert_eq!(
            shown_line(20, 1980, 2000).as_deref(),
            Some("20 of 2,000 shown (from row 1,981, the last ones)")
        );
        assert_eq!(
            shown_line(0, 5000, 2000).as_deref(),
            Some("0 of 2,000 shown: --offset 5000 is past the end")
        );
    }
}
