//! Charts drawn on the server as SVG: no script, nothing fetched, styled by the
//! console's stylesheet (`.chart` classes) so they follow the light or dark scheme.
//!
//! SVG elements are always closed (`rect {}`): in HTML, an SVG `<rect>` written as
//! a void element would swallow what follows it.
//!
//! Geometry goes in SVG attributes (`x`, `width`, ...), never in `style`: the
//! Content-Security-Policy forbids inline styles. Every chart carries its figures as
//! text too: a `<title>` per mark (the browser's tooltip) and a table under a
//! `<details>`, for screen readers and for copying.

use maud::{Markup, html};

/// One bar or column: what it stands for, its size, the figure shown beside it, and
/// where a click on it leads.
#[derive(Debug, Clone)]
pub struct Mark {
    pub label: String,
    pub value: f64,
    pub shown: String,
    pub href: Option<String>,
    /// A shorter label for under a column (`#12` for run 12), when the label is long.
    pub tick: Option<String>,
}

impl Mark {
    pub fn new(label: impl Into<String>, value: f64, shown: impl Into<String>) -> Self {
        Mark {
            label: label.into(),
            value,
            shown: shown.into(),
            href: None,
            tick: None,
        }
    }

    /// A count: its value, shown with thousands separators.
    pub fn count(label: impl Into<String>, n: u64) -> Self {
        Mark::new(label, n as f64, super::layout::count(n))
    }

    pub fn link(mut self, href: impl Into<String>) -> Self {
        self.href = Some(href.into());
        self
    }

    pub fn tick(mut self, tick: impl Into<String>) -> Self {
        self.tick = Some(tick.into());
        self
    }
}

/// Characters of a label kept on a bar chart; the whole label is in the mark's title.
const LABEL_CHARS: usize = 28;
const ROW: f64 = 22.0;
const WIDTH: f64 = 640.0;
const LABEL_WIDTH: f64 = 210.0;
const VALUE_WIDTH: f64 = 80.0;

/// Horizontal bars, one row a mark, largest first as given: for categories (offers per
/// département, per contract type, skills of a job).
pub fn bars(caption: &str, marks: &[Mark]) -> Markup {
    let max = max_value(marks);
    let height = ROW * marks.len() as f64 + 4.0;
    let room = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    html! {
        figure.chart {
            figcaption { (caption) }
            @if marks.is_empty() {
                p.empty { "Nothing to chart yet." }
            } @else {
                svg.bars viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label=(caption)
                    preserveAspectRatio="xMinYMin meet" {
                    @for (i, m) in marks.iter().enumerate() {
                        @let y = ROW * i as f64 + 2.0;
                        @let w = if max > 0.0 { (m.value / max * room).max(1.0) } else { 1.0 };
                        g.mark {
                            title { (m.label) ": " (m.shown) }
                            text.label x=(LABEL_WIDTH - 8.0) y=(y + 15.0) text-anchor="end" {
                                (shorten(&m.label, LABEL_CHARS))
                            }
                            (bar(m, LABEL_WIDTH, y + 3.0, w, ROW - 6.0))
                            text.value x=(LABEL_WIDTH + w + 6.0) y=(y + 15.0) { (m.shown) }
                        }
                    }
                }
            }
            (data_table(caption, marks))
        }
    }
}

const PLOT_HEIGHT: f64 = 120.0;
const AXIS: f64 = 24.0;
/// Column charts are narrower than bar charts: they sit two or three abreast.
const COLUMNS_WIDTH: f64 = 320.0;

/// Vertical columns in the order given (oldest first): a series over time (items per
/// run, offers per creation day). At most `ticks` labels are written under the axis.
pub fn columns(caption: &str, marks: &[Mark], ticks: usize) -> Markup {
    let max = max_value(marks);
    let n = marks.len().max(1) as f64;
    let left = 40.0;
    let step = ((COLUMNS_WIDTH - left - 8.0) / n).min(40.0);
    let gap = (step * 0.2).min(4.0);
    let every = marks.len().div_ceil(ticks.max(1)).max(1);
    let height = PLOT_HEIGHT + AXIS;
    html! {
        figure.chart {
            figcaption { (caption) }
            @if marks.is_empty() {
                p.empty { "Nothing to chart yet." }
            } @else {
                svg.columns viewBox=(format!("0 0 {COLUMNS_WIDTH} {height}")) role="img" aria-label=(caption)
                    preserveAspectRatio="xMinYMin meet" {
                    line.axis x1=(left) y1=(PLOT_HEIGHT) x2=(COLUMNS_WIDTH - 8.0) y2=(PLOT_HEIGHT) {}
                    text.tick x=(left - 4.0) y="12" text-anchor="end" { (short_number(max)) }
                    text.tick x=(left - 4.0) y=(PLOT_HEIGHT) text-anchor="end" { "0" }
                    @for (i, m) in marks.iter().enumerate() {
                        @let h = if max > 0.0 { (m.value / max * (PLOT_HEIGHT - 8.0)).max(if m.value > 0.0 { 1.0 } else { 0.0 }) } else { 0.0 };
                        @let x = left + step * i as f64;
                        g.mark {
                            title { (m.label) ": " (m.shown) }
                            (bar(m, x + gap / 2.0, PLOT_HEIGHT - h, (step - gap).max(1.0), h))
                            @if i % every == 0 {
                                text.tick x=(x + step / 2.0) y=(PLOT_HEIGHT + 15.0) text-anchor="middle" {
                                    (shorten(m.tick.as_deref().unwrap_or(&m.label), 10))
                                }
                            }
                        }
                    }
                }
            }
            (data_table(caption, marks))
        }
    }
}

/// A mark's rectangle, linked when the mark leads somewhere.
fn bar(m: &Mark, x: f64, y: f64, width: f64, height: f64) -> Markup {
    let rect = html! { rect.bar x=(x) y=(y) width=(width) height=(height) rx="2" {} };
    match &m.href {
        Some(href) => html! { a href=(href) { (rect) } },
        None => rect,
    }
}

/// The figures of a chart as a table, folded under the chart.
fn data_table(caption: &str, marks: &[Mark]) -> Markup {
    html! {
        @if !marks.is_empty() {
            details.data {
                summary { "Figures" }
                table {
                    caption.visually-hidden { (caption) }
                    tbody {
                        @for m in marks {
                            tr {
                                th scope="row" {
                                    @if let Some(href) = &m.href { a href=(href) { (m.label) } } @else { (m.label) }
                                }
                                td.num { (m.shown) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn max_value(marks: &[Mark]) -> f64 {
    marks
        .iter()
        .map(|m| m.value)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// `label` cut to `n` characters with an ellipsis.
pub fn shorten(label: &str, n: usize) -> String {
    if label.chars().count() <= n {
        label.to_owned()
    } else {
        let mut s: String = label.chars().take(n.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// An axis figure: `950`, `12k`, `1.2M`.
fn short_number(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let marks = [
            Mark::count("<b>75</b>", 200),
            Mark::count("13", 50).link("/offers?departement=13"),
        ];
        let svg = bars("Offers per département", &marks).into_string();
        assert!(
            svg.contains(r#"width="350""#),
            "the largest bar fills the room: {svg}"
        );
        assert!(svg.contains(r#"width="87.5""#), "a quarter of it: {svg}");
        assert!(svg.contains("&lt;b&gt;75&lt;/b&gt;"), "{svg}");
        assert!(!svg.contains("<b>75"), "{svg}");
        assert!(svg.contains(r#"href="/offers?departement=13""#), "{svg}");
        assert!(!svg.contains("style="), "no inline style: {svg}");
    }

    #[test]
    fn an_empty_chart_says_so() {
        let html = columns("Runs", &[], 6).into_string();
        assert!(html.contains("Nothing to chart yet."), "{html}");
    }

    #[test]
    fn labels_and_axis_figures_are_short() {
        assert_eq!(shorten("Boulangerie-pâtisserie", 12), "Boulangerie…");
        assert_eq!(short_number(1_234_567.0), "1.2M");
        assert_eq!(short_number(23_456.0), "23k");
        assert_eq!(short_number(1_500.0), "1.5k");
        assert_eq!(short_number(42.0), "42");
    }
}
