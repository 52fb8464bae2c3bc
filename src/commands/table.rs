//! Tables for people: fitted to the terminal's width without splitting a cell across
//! lines, numbers with thousands separators, instants in UTC with a `Z`.
//!
//! A list that is too wide first gives up the columns no row fills, then the columns its
//! command names as least useful ([`Layout`]); long text is cut with `…` (never below
//! [`MIN_TEXT_CHARS`] while columns remain to give up). When even that cannot fit, each
//! row becomes a record: one `field | value` line per column under a `-[ RECORD n ]`
//! line, as psql's `\x` shows them. The widths are handed to comfy-table as column
//! constraints (`Hidden`, `Absolute`, `LowerBoundary`) with one line per row.

use std::io::IsTerminal;

use comfy_table::{
    CellAlignment, ColumnConstraint, ContentArrangement, Row, Table, Width,
    presets::UTF8_FULL_CONDENSED,
};
use unicode_width::UnicodeWidthStr;

use super::fields::Node;

/// The width a table is fitted to when stdout is not a terminal and `COLUMNS` is unset
/// (as `ls` and psql do).
pub const DEFAULT_WIDTH: usize = 80;
/// Narrowest a text column is cut to while other columns can still be left out.
pub const MIN_TEXT_CHARS: usize = 16;
/// Narrowest the widest text column the command keeps longest (a product's title, an
/// offer's intitulé: what names the row) is cut to while the command's low-value
/// columns can still be left out for it.
pub const MIN_LABEL_CHARS: usize = 28;

/// The width tables are fitted to: `COLUMNS` when it holds a positive whole number (as
/// for `ls` and psql), else the terminal's width when stdout is one, else
/// [`DEFAULT_WIDTH`].
pub fn width() -> usize {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&w| w > 0)
    {
        return usize::from(w);
    }
    if std::io::stdout().is_terminal()
        && let Some(w) = Table::new().width()
    {
        return usize::from(w);
    }
    DEFAULT_WIDTH
}

/// Columns of one command's list a narrow terminal can do without, least useful first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout {
    pub drop: &'static [&'static str],
}

/// What a cell holds, for alignment and fitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text: cut with `…` when its column must narrow.
    Text,
    /// A figure: right-aligned, never cut.
    Number,
    /// An id, an instant, a yes/no, an empty cell: never cut.
    Fixed,
}

/// One cell of a table, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub kind: Kind,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            kind: Kind::Text,
        }
    }
}

/// Whether a numeric column holds identifiers (shown as they are, without separators).
pub fn is_identifier(column: &str) -> bool {
    let last = column.rsplit('.').next().unwrap_or(column);
    matches!(last, "id" | "run" | "groupe") || last.ends_with("_id") || last.starts_with("id_")
}

/// `1234567` as `1,234,567`; a decimal keeps its fraction (`12,500.00`).
pub fn thousands(n: &str) -> String {
    let (sign, digits) = n.strip_prefix('-').map_or(("", n), |d| ("-", d));
    let (int, frac) = digits
        .split_once('.')
        .map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A count as a table shows it: `13,064`.
pub fn count(n: u64) -> String {
    thousands(&n.to_string())
}

/// An RFC 3339 instant as a table shows it: `2026-11-22 14:04:29Z` (UTC).
pub fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// `s` when it is an RFC 3339 instant, in UTC as [`instant`] shows it.
fn as_instant(s: &str) -> Option<String> {
    if s.len() < 20 || s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| instant(t.to_utc()))
}

/// Whether `s` is written like a decimal amount (`12500.00`, `-3.5`).
fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    digits.split_once('.').is_some_and(|(i, f)| {
        !i.is_empty()
            && !f.is_empty()
            && i.bytes().all(|b| b.is_ascii_digit())
            && f.bytes().all(|b| b.is_ascii_digit())
    })
}

/// `s` on one line of at most `max` terminal columns, cut with `…`.
pub fn cut(s: &str, max: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.width() <= max {
        return one_line;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in one_line.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// The cell of `column` for a value as serialized: numbers grouped (not identifiers),
/// decimal amounts grouped, instants in UTC, text on one line cut to `max` columns.
pub fn cell_of(column: &str, node: &Node, max: usize) -> Cell {
    match node {
        Node::Null => Cell {
            text: String::new(),
            kind: Kind::Fixed,
        },
        Node::Scalar(v) if v.is_number() => Cell {
            text: if is_identifier(column) {
                v.to_string()
            } else {
                thousands(&v.to_string())
            },
            kind: Kind::Number,
        },
        Node::Scalar(v) => Cell {
            text: v.to_string(),
            kind: Kind::Fixed,
        },
        Node::Text(s) => {
            if let Some(t) = as_instant(s) {
                Cell {
                    text: t,
                    kind: Kind::Fixed,
                }
            } else if is_decimal(s) {
                Cell {
                    text: thousands(s),
                    kind: Kind::Number,
                }
            } else {
                Cell::text(cut(s, max))
            }
        }
        other => Cell::text(cut(&other.text(), max)),
    }
}

/// A cell of a sync report or a benchmark, given as text: whole numbers are counts
/// (grouped) unless `column` names an identifier.
pub fn figure(column: &str, text: &str) -> Cell {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let numeric =
        !digits.is_empty() && (digits.bytes().all(|b| b.is_ascii_digit()) || is_decimal(text));
    match (numeric, is_identifier(column)) {
        (true, true) => Cell {
            text: text.to_owned(),
            kind: Kind::Number,
        },
        (true, false) => Cell {
            text: thousands(text),
            kind: Kind::Number,
        },
        _ => Cell::text(text),
    }
}

/// How a list is laid out at a width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// One line per row; `hidden` columns left out; each shown column at least `min`.
    Table { hidden: Vec<usize>, min: Vec<usize> },
    /// A record per row: the row cannot fit even with every column it can spare left out.
    Records,
}

/// Border and padding of [`UTF8_FULL_CONDENSED`]: `│ a ┆ b │` is 3 a column, plus 1.
fn overhead(columns: usize) -> usize {
    3 * columns + 1
}

/// Lays out `header` and `rows` in `width` terminal columns (pure, see the module's
/// doc for the order in which things give way). The widest text column keeps
/// [`MIN_LABEL_CHARS`] when leaving out low-value columns makes room for it; otherwise
/// it is cut like the others.
pub fn plan(header: &[String], rows: &[Vec<Cell>], layout: &Layout, width: usize) -> Plan {
    match plan_with(header, rows, layout, width, MIN_LABEL_CHARS) {
        Plan::Records => plan_with(header, rows, layout, width, MIN_TEXT_CHARS),
        table => table,
    }
}

fn plan_with(
    header: &[String],
    rows: &[Vec<Cell>],
    layout: &Layout,
    width: usize,
    label_min: usize,
) -> Plan {
    let n = header.len();
    let column = |i: usize| rows.iter().filter_map(move |r| r.get(i));
    let natural: Vec<usize> = (0..n)
        .map(|i| {
            column(i)
                .map(|c| c.text.width())
                .chain([header[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let text = |i: usize| column(i).any(|c| c.kind == Kind::Text);
    let kept = |i: usize| !layout.drop.contains(&header[i].as_str());
    let label = (0..n)
        .filter(|&i| text(i) && kept(i))
        .max_by_key(|&i| (natural[i], n - i));
    let min: Vec<usize> = (0..n)
        .map(|i| {
            let least = if Some(i) == label {
                label_min
            } else {
                MIN_TEXT_CHARS
            };
            if text(i) {
                natural[i].min(header[i].width().max(least))
            } else {
                natural[i]
            }
        })
        .collect();
    let blank = |i: usize| !rows.is_empty() && column(i).all(|c| c.text.trim().is_empty());
    let mut candidates: Vec<usize> = (0..n).filter(|&i| blank(i)).collect();
    for name in layout.drop {
        if let Some(i) = header.iter().position(|h| h == name)
            && !candidates.contains(&i)
        {
            candidates.push(i);
        }
    }
    let mut hidden: Vec<usize> = Vec::new();
    let shown_sum = |hidden: &[usize], widths: &[usize]| -> usize {
        let kept = (0..n).filter(|i| !hidden.contains(i));
        kept.clone().map(|i| widths[i]).sum::<usize>() + overhead(kept.count())
    };
    if shown_sum(&hidden, &natural) <= width {
        return Plan::Table {
            hidden,
            min: natural,
        };
    }
    let mut next = candidates.into_iter();
    loop {
        if shown_sum(&hidden, &min) <= width {
            return Plan::Table { hidden, min };
        }
        match next.next() {
            Some(i) if hidden.len() + 1 < n => hidden.push(i),
            _ => return Plan::Records,
        }
    }
}

/// A list rendered for people: its text and the columns it left out.
pub struct Rendered {
    pub text: String,
    pub hidden: Vec<String>,
}

/// Renders `header` and `rows` fitted to `width`: a table, or records when a row cannot
/// fit (see [`plan`]).
pub fn render(header: &[String], rows: &[Vec<Cell>], layout: &Layout, width: usize) -> Rendered {
    match plan(header, rows, layout, width) {
        Plan::Records => Rendered {
            text: records(header, rows, width),
            hidden: Vec::new(),
        },
        Plan::Table { hidden, min } => {
            let mut table = base_table(width);
            table.set_header(header.to_vec());
            for r in rows {
                let mut row = Row::from(r.iter().map(|c| c.text.clone()));
                row.max_height(1);
                table.add_row(row);
            }
            let numeric = |i: usize| {
                rows.iter()
                    .filter_map(|r| r.get(i))
                    .any(|c| c.kind == Kind::Number)
            };
            let shrinks = |i: usize| {
                rows.iter()
                    .filter_map(|r| r.get(i))
                    .any(|c| c.kind == Kind::Text)
            };
            for (i, col) in table.column_iter_mut().enumerate() {
                let w = u16::try_from(min.get(i).copied().unwrap_or(1) + 2).unwrap_or(u16::MAX);
                col.set_constraint(if hidden.contains(&i) {
                    ColumnConstraint::Hidden
                } else if shrinks(i) {
                    ColumnConstraint::LowerBoundary(Width::Fixed(w))
                } else {
                    ColumnConstraint::Absolute(Width::Fixed(w))
                });
                if numeric(i) {
                    col.set_cell_alignment(CellAlignment::Right);
                }
            }
            Rendered {
                text: table.to_string(),
                hidden: hidden.iter().map(|&i| header[i].clone()).collect(),
            }
        }
    }
}

/// A table with the project's look, fitted to `width`, one line per row (cells cut
/// with `…`).
pub fn base_table(width: usize) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX))
        .set_truncation_indicator("…");
    table
}

/// Each row as a record: a `-[ RECORD n ]` line, then `field | value`, values cut to
/// the width.
pub fn records(header: &[String], rows: &[Vec<Cell>], width: usize) -> String {
    let label = header.iter().map(|h| h.width()).max().unwrap_or(0);
    let room = width.saturating_sub(label + 3).max(1);
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let values: Vec<String> = row.iter().map(|c| cut(&c.text, room)).collect();
        let longest = values.iter().map(|v| v.width()).max().unwrap_or(0);
        let total = (label + 3 + longest).min(width);
        let mut line = format!("-[ RECORD {} ]", n + 1);
        if line.width() < label + 1 {
            line.push_str(&"-".repeat(label + 1 - line.width()));
            line.push('+');
        }
        if line.width() < total {
            line.push_str(&"-".repeat(total - line.width()));
        }
        out.push_str(&line);
        out.push('\n');
        for (h, v) in header.iter().zip(&values) {
            let pad = " ".repeat(label - h.width());
            out.push_str(format!("{h}{pad} | {v}").trim_end());
            out.push('\n');
        }
    }
    out.pop();
    out
}

/// `text` in lines of at most `width` columns, broken at spaces.
pub fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().map(|l| l.width()).unwrap_or(0);
        if line > 0 && line + 1 + word.width() > width {
            lines.push(String::new());
        }
        if let Some(last) = lines.last_mut() {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn row(cells: &[(&str, Kind)]) -> Vec<Cell> {
        cells
            .iter()
            .map(|&(t, kind)| Cell {
                text: t.to_owned(),
                kind,
            })
            .collect()
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands("0"), "0");
        assert_eq!(thousands("999"), "999");
        assert_eq!(thousands("1000"), "1,000");
        assert_eq!(thousands("-1234567"), "-1,234,567");
        assert_eq!(thousands("12500.00"), "12,500.00");
        assert_eq!(figure("total", "13064").text, "13,064");
        assert_eq!(figure("run", "13064").text, "13064");
        assert_eq!(figure("query", "keywords=1000").text, "keywords=1000");
        let n = Node::Scalar(12345.into());
        assert_eq!(cell_of("stock", &n, 60).text, "12,345");
        assert_eq!(cell_of("external_id", &n, 60).text, "12345");
        // Codes written as text stay as they are; amounts are grouped.
        assert_eq!(
            cell_of("commune", &Node::Text("75056".into()), 60).text,
            "75056"
        );
        assert_eq!(
            cell_of("price", &Node::Text("12500.00".into()), 60).text,
            "12,500.00"
        );
    }

    #[test]
    fn instants_show_in_utc_with_a_z() {
        let t = Node::Text("2026-11-22T16:04:29.123+02:00".into());
        assert_eq!(cell_of("updated_at", &t, 60).text, "2026-11-22 14:04:29Z");
    }

    #[test]
    fn text_is_cut_by_display_width() {
        assert_eq!(cut("Beurre de karité", 10), "Beurre de…");
        assert_eq!(cut("短い日本語テキスト", 7), "短い日…");
        assert_eq!(cut("a\nb", 5), "a b");
    }

    #[test]
    fn a_wide_list_leaves_out_blank_then_low_value_columns_then_becomes_records() {
        let h = header(&["id", "title", "brand", "note", "stock"]);
        let rows = vec![row(&[
            ("1", Kind::Number),
            ("Beurre de karité fort Nido du Mali", Kind::Text),
            ("Nido", Kind::Text),
            ("", Kind::Fixed),
            ("1,200", Kind::Number),
        ])];
        let layout = Layout { drop: &["brand"] };
        // Everything fits: nothing left out.
        assert_eq!(
            plan(&h, &rows, &layout, 200),
            Plan::Table {
                hidden: vec![],
                min: vec![2, 34, 5, 4, 5]
            }
        );
        // 40 columns: the blank `note` goes, then `brand`; the title is cut.
        let Plan::Table { hidden, min } = plan(&h, &rows, &layout, 40) else {
            panic!("a table");
        };
        assert_eq!(hidden, [3, 2]);
        assert_eq!(min[1], MIN_TEXT_CHARS);
        // Too narrow for id, a cut title and stock: records.
        assert_eq!(plan(&h, &rows, &layout, 30), Plan::Records);
        // 50 columns: the title (the widest text column) keeps 28 characters when
        // leaving out `brand` makes room for it, rather than cutting both to 16.
        let Plan::Table { hidden, min } = plan(&h, &rows, &layout, 50) else {
            panic!("a table");
        };
        assert_eq!(hidden, [3, 2]);
        assert_eq!(min[1], MIN_LABEL_CHARS);

        let text = render(&h, &rows, &layout, 40).text;
        assert!(text.lines().all(|l| l.width() <= 40), "{text}");
        assert_eq!(text.lines().count(), 5, "one line for the row: {text}");
        assert!(text.contains('…') && !text.contains("Nido "), "{text}");

        let rec = render(&h, &rows, &layout, 30).text;
        assert!(rec.starts_with("-[ RECORD 1 ]"), "{rec}");
        assert!(rec.lines().all(|l| l.width() <= 30), "{rec}");
        assert!(rec.contains("brand | Nido"), "{rec}");
    }

    #[test]
    fn notes_wrap_at_spaces() {
        assert_eq!(
            wrap("50 of 2,000 shown; --offset 50", 20),
            "50 of 2,000 shown;\n--offset 50"
        );
    }
}
