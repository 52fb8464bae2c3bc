//! The frame of every console page (head, navigation, footer) and the small pieces the
//! pages share: numbers, instants, durations, status badges, pagers, empty states.
//!
//! Every value goes through maud's `(...)` splices, which escape it: nothing here or in
//! the pages writes upstream text with `PreEscaped`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use crate::commands::table::thousands;

/// The stylesheet, compiled into the binary.
pub const CSS: &str = include_str!("assets/console.css");
/// The icon, compiled into the binary.
pub const ICON: &str = include_str!("assets/icon.svg");

/// The sections of the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Runs,
    Catalog,
    Offers,
    Jobs,
    Cerema,
    /// A page under none of them (an error page).
    None,
}

const SECTIONS: [(Nav, &str, &str); 6] = [
    (Nav::Overview, "/", "Overview"),
    (Nav::Runs, "/runs", "Runs"),
    (Nav::Catalog, "/products", "Catalog"),
    (Nav::Offers, "/offers", "Offers"),
    (Nav::Jobs, "/match", "Jobs"),
    (Nav::Cerema, "/cerema", "Cerema"),
];

/// A whole HTML document: `title`, the navigation with `nav` marked current, and `body`.
pub fn page(title: &str, nav: Nav, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · sagasync" }
                link rel="stylesheet" href="/assets/console.css";
                link rel="icon" type="image/svg+xml" href="/assets/icon.svg";
            }
            body {
                header.top {
                    a.brand href="/" { "sagasync" }
                    nav aria-label="Sections" {
                        ul {
                            @for (section, href, label) in SECTIONS {
                                li {
                                    @if section == nav {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                    }
                }
                main { (body) }
                footer {
                    "sagasync " (env!("CARGO_PKG_VERSION")) " · read-only console · "
                    a href="/api/health" { "JSON API" }
                }
            }
        }
    }
}

/// `1234567` as `1,234,567`.
pub fn count(n: impl Into<i128>) -> String {
    thousands(&n.into().to_string())
}

/// A rate such as `29,325/s`, or `-` when there is no duration to divide by.
pub fn rate(items: i64, secs: Option<f64>) -> String {
    match secs {
        Some(s) if s > 0.0 => format!("{}/s", count((items as f64 / s).round() as i64)),
        _ => "-".to_owned(),
    }
}

/// An instant as the CLI shows it: `2026-12-03 21:15:02Z`, in a `<time>` element.
pub fn instant(t: &DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%SZ")) }
    }
}

/// An optional instant, `-` when absent.
pub fn maybe_instant(t: Option<&DateTime<Utc>>) -> Markup {
    match t {
        Some(t) => instant(t),
        None => html! { "-" },
    }
}

/// Seconds as `0.42 s`, `3.4 s`, `2 min 05 s`, `1 h 02 min`.
pub fn duration(secs: f64) -> String {
    if secs < 1.0 {
        format!("{secs:.2} s")
    } else if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        let s = secs.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        let m = (secs / 60.0).round() as u64;
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

/// A run status as a badge (`succeeded`, `failed`, `interrupted`, `running`), and any
/// other word as neutral.
pub fn status(s: &str) -> Markup {
    let class = match s {
        "succeeded" | "synced" | "ok" => "badge good",
        "failed" | "error" => "badge bad",
        "interrupted" | "missing" | "pending" | "warning" => "badge warn",
        _ => "badge",
    };
    html! { span class=(class) { (s) } }
}

/// Text or a dash.
pub fn or_dash(v: Option<&str>) -> Markup {
    match v {
        Some(v) if !v.trim().is_empty() => html! { (v) },
        _ => html! { span.muted { "-" } },
    }
}

/// `u` as an http or https URL, or `None` (a `javascript:` or `data:` address, a
/// relative one, text that is no address).
pub fn web_url(u: &str) -> Option<String> {
    let url = url::Url::parse(u.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// An address that came from upstream: a link (that tells the other site nothing) when
/// it is a web address, else text saying it is not one; a dash when absent.
pub fn external_link(url: Option<&str>) -> Markup {
    match url.map(str::trim).filter(|u| !u.is_empty()) {
        None => or_dash(None),
        Some(u) => match web_url(u) {
            Some(href) => html! {
                a.mono href=(href) rel="noopener noreferrer nofollow" { (super::chart::shorten(u, 80)) }
            },
            None => {
                html! { span.mono { (super::chart::shorten(u, 80)) } " " span.muted { "(not a web address)" } }
            }
        },
    }
}

/// What a page says when a list is empty, with what would fill it.
pub fn empty(what: &str, hint: Markup) -> Markup {
    html! {
        p.empty { (what) " " (hint) }
    }
}

/// A query string of `params` (empty values left out), `?` included when not empty.
pub fn query(params: &[(&str, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    let q = s.finish();
    if q.is_empty() { q } else { format!("?{q}") }
}

/// The previous / next links of a list, keeping the page's other parameters.
///
/// `total`, when known, is the number of rows the filters select; `shown` is how many
/// this page holds.
pub fn pager(
    path: &str,
    params: &[(&str, String)],
    offset: u64,
    limit: u64,
    shown: usize,
    total: Option<u64>,
) -> Markup {
    let link = |offset: u64| {
        let mut p: Vec<(&str, String)> = params.to_vec();
        if offset > 0 {
            p.push(("offset", offset.to_string()));
        }
        format!("{path}{}", query(&p))
    };
    let first = offset + 1;
    let last = offset + shown as u64;
    let has_next = match total {
        Some(t) => last < t,
        None => shown as u64 == limit,
    };
    html! {
        nav.pager aria-label="Pages" {
            span.range {
                @if shown == 0 {
                    "Nothing to show"
                } @else {
                    (count(first)) "–" (count(last))
                }
                @if let Some(t) = total { " of " (count(t)) }
            }
            @if offset > 0 {
                a rel="prev" href=(link(offset.saturating_sub(limit))) { "← Previous" }
            }
            @if has_next {
                a rel="next" href=(link(offset + limit)) { "Next →" }
            }
        }
    }
}

/// A `<select>` of `options` (value, label) with `selected` chosen; the first option is
/// "any" (an empty value).
pub fn select(name: &str, label: &str, options: &[(String, String)], selected: &str) -> Markup {
    html! {
        label {
            span { (label) }
            select name=(name) {
                option value="" { "any" }
                @for (value, text) in options {
                    @if value == selected {
                        option value=(value) selected { (text) }
                    } @else {
                        option value=(value) { (text) }
                    }
                }
            }
        }
    }
}

/// A labelled text input.
pub fn input(name: &str, label: &str, value: &str, placeholder: &str) -> Markup {
    html! {
        label {
            span { (label) }
            input type="search" name=(name) value=(value) placeholder=(placeholder);
        }
    }
}

/// A text parameter of a page, trimmed; empty when absent.
pub fn param(p: &HashMap<String, String>, name: &str) -> String {
    p.get(name).map(|v| v.trim().to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_every_scale() {
        assert_eq!(duration(0.4191), "0.42 s");
        assert_eq!(duration(3.41), "3.4 s");
        assert_eq!(duration(125.0), "2 min 05 s");
        assert_eq!(duration(3720.0), "1 h 02 min");
    }

    #[test]
    fn the_pager_keeps_the_filters_and_stops_at_the_total() {
        let params = [("q", "café & thé".to_owned()), ("status", String::new())];
        let html = pager("/products", &params, 20, 20, 20, Some(45)).into_string();
        assert!(html.contains("21–40 of 45"), "{html}");
        assert!(
            html.contains(r#"href="/products?q=caf%C3%A9+%26+th%C3%A9""#),
            "{html}"
        );
        assert!(
            html.contains(r#"href="/products?q=caf%C3%A9+%26+th%C3%A9&amp;offset=40""#),
            "{html}"
        );
        let last = pager("/products", &params, 40, 20, 5, Some(45)).into_string();
        assert!(!last.contains("Next"), "{last}");
    }

    #[test]
    fn only_web_addresses_become_links() {
        assert_eq!(
            web_url("https://candidat.francetravail.fr/offres/1").as_deref(),
            Some("https://candidat.francetravail.fr/offres/1")
        );
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "//evil",
            "offres/1",
        ] {
            assert_eq!(web_url(bad), None, "{bad}");
            let html = external_link(Some(bad)).into_string();
            assert!(!html.contains("href"), "{html}");
        }
    }

    #[test]
    fn values_are_escaped() {
        let html = page(
            "<b>",
            Nav::None,
            html! { (or_dash(Some("<script>x</script>"))) },
        )
        .into_string();
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");
        assert!(
            html.contains("<title>&lt;b&gt; · sagasync</title>"),
            "{html}"
        );
    }
}
