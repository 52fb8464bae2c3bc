//! A France Travail offers query: its parameters, its identity (for once-a-day), the
//! `range` windows of its pages, and how a query too large for the API's 3,150 cap is
//! split into parts that fit. Pure code.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::filters::MinSalary;

/// Offers per page (the most the API gives in one call).
pub const PAGE_SIZE: u32 = 150;
/// The API never returns an offer past this index of one query (`range` end <= 3149).
pub const LAST_INDEX: u32 = 3149;
/// Offers one query can return at most.
pub const CAP: u64 = LAST_INDEX as u64 + 1;
/// Pages one query can return at most.
pub const CAP_PAGES: u32 = CAP.div_ceil(PAGE_SIZE as u64) as u32;
/// Values `publieeDepuis` accepts.
pub const SINCE_DAYS: [u32; 5] = [1, 3, 7, 14, 31];
/// The départements a query without one is split into.
pub const DEPARTEMENTS: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "21", "22", "23", "24", "25", "26", "27", "28", "29", "2A", "2B", "30", "31",
    "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47",
    "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63",
    "64", "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79",
    "80", "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "95",
    "971", "972", "973", "974", "976",
];

/// What to search. Serialized into the run's options: its JSON is its identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keywords: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commune: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_days: Option<u32>,
    /// `experience`: 1, 2 or 3 (see [`super::filters::experience`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experience: Option<u8>,
    /// `qualification`: 0 or 9.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualification: Option<u8>,
    /// `secteurActivite`: a NAF division (two digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sector_code: Option<String>,
    /// `natureContrat`: a code of [`super::filters::NATURES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_nature: Option<String>,
    /// `tempsPlein`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_time: Option<bool>,
    /// `region`: an INSEE region code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `entrepriseAdaptee`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapted_company: Option<bool>,
    /// `salaireMin` with its `periodeSalaire`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_salary: Option<MinSalary>,
    /// The sector the keywords came from (a label; not sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// A creation-date window (both bounds inclusive), set by splitting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Refuses a `publieeDepuis` the API would refuse.
pub fn since_days(v: u32) -> Result<u32, String> {
    if SINCE_DAYS.contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{v} is not accepted by France Travail: use 1, 3, 7, 14 or 31"
        ))
    }
}

/// The API's date format: `yyyy-MM-ddTHH:mm:ssZ`.
fn api_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl OfferQuery {
    /// The search parameters, without `range`.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        let mut add = |k: &'static str, v: &Option<String>| {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                p.push((k, v.to_owned()));
            }
        };
        add("motsCles", &self.keywords);
        add("commune", &self.commune);
        add("departement", &self.departement);
        add("codeROME", &self.rome);
        add("typeContrat", &self.contract);
        add("secteurActivite", &self.sector_code);
        add("natureContrat", &self.contract_nature);
        add("region", &self.region);
        if let (Some(d), Some(_)) = (self.distance, &self.commune) {
            p.push(("distance", d.to_string()));
        }
        if let Some(d) = self.since_days {
            p.push(("publieeDepuis", d.to_string()));
        }
        let numbers = [
            ("experience", self.experience.map(|e| e.to_string())),
            ("qualification", self.qualification.map(|q| q.to_string())),
            ("tempsPlein", self.full_time.map(|b| b.to_string())),
            (
                "entrepriseAdaptee",
                self.adapted_company.map(|b| b.to_string()),
            ),
            ("salaireMin", self.min_salary.map(|s| s.amount.to_string())),
            (
                "periodeSalaire",
                self.min_salary.map(|s| s.period.code().to_owned()),
            ),
        ];
        p.extend(numbers.into_iter().filter_map(|(k, v)| Some((k, v?))));
        if let Some((min, max)) = self.window {
            p.push(("minCreationDate", api_date(min)));
            p.push(("maxCreationDate", api_date(max)));
        }
        p
    }

    /// The query as a user asked it (no split window): what once-a-day compares.
    pub fn identity(&self) -> serde_json::Value {
        let mut root = self.clone();
        root.window = None;
        serde_json::to_value(root).unwrap_or_default()
    }

    /// A short label (archive file names, progress): the keywords, or `all`.
    pub fn label(&self) -> String {
        self.keywords
            .clone()
            .filter(|k| !k.trim().is_empty())
            .unwrap_or_else(|| "all".to_owned())
    }

    /// The name of the query in its archive files: [`Self::label`] alone for keywords
    /// alone (as the original collectors name them), followed by 8 hex digits of a hash
    /// of its other parameters when it has some, so that two queries differing only by
    /// a filter never write to the same file.
    pub fn archive_label(&self) -> String {
        let rest = OfferQuery {
            keywords: None,
            sector: None,
            window: None,
            ..self.clone()
        };
        if rest == OfferQuery::default() {
            return self.label();
        }
        let json = serde_json::to_vec(&rest).unwrap_or_default();
        let digest = Sha256::digest(&json);
        format!("{}_{}", self.label(), hex::encode(&digest[..4]))
    }

    /// One line describing the part (`departement=75, 2026-10-01..2026-10-15`).
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .params()
            .into_iter()
            .filter(|(k, _)| !k.ends_with("CreationDate"))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if let Some((min, max)) = self.window {
            parts.push(format!("created {}..{}", api_date(min), api_date(max)));
        }
        if parts.is_empty() {
            "every offer".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// Where a creation-date window starts when the query gives none.
pub fn earliest(now: DateTime<Utc>, since_days: Option<u32>) -> DateTime<Utc> {
    match since_days {
        Some(d) => now - Duration::days(i64::from(d)),
        None => Utc
            .with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or(now),
    }
}

/// Splits `q` in two creation-date windows, halves of its own (from [`earliest`] to
/// `now` when it has none): each half's first page is data, and the totals of the
/// halves add up to the whole, so an empty half needs no request (a split by
/// département would probe every one, most of them empty). `None` when a window of
/// one second cannot be split.
pub fn split(q: &OfferQuery, now: DateTime<Utc>) -> Option<[OfferQuery; 2]> {
    let (min, max) = q.window.unwrap_or((earliest(now, q.since_days), now));
    let seconds = (max - min).num_seconds();
    if seconds < 1 {
        return None;
    }
    let mid = min + Duration::seconds(seconds / 2);
    let half = |w| OfferQuery {
        window: Some(w),
        ..q.clone()
    };
    Some([half((min, mid)), half((mid + Duration::seconds(1), max))])
}

/// The `range` of page `page` (0-based), or `None` past the API's cap.
pub fn page_range(page: u32) -> Option<(u32, u32)> {
    let start = page.checked_mul(PAGE_SIZE)?;
    if start > LAST_INDEX {
        return None;
    }
    Some((start, (start + PAGE_SIZE - 1).min(LAST_INDEX)))
}

/// Reads `Content-Range: offres 0-149/15262` into (first, last, total).
pub fn content_range(v: &str) -> Option<(u64, u64, u64)> {
    let v = v.trim();
    let rest = v.split_once(' ').map_or(v, |(_, r)| r).trim();
    let (span, total) = rest.split_once('/')?;
    let total: u64 = total.trim().parse().ok()?;
    if span.trim() == "*" {
        return Some((0, 0, total));
    }
    let (a, b) = span.split_once('-')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_are_read() {
        assert_eq!(content_range("offres 0-149/15262"), Some((0, 149, 15262)));
        assert_eq!(
            content_range("offres 3000-3149/15262"),
            Some((3000, 3149, 15262))
        );
        assert_eq!(content_range("offres 150-161/162"), Some((150, 161, 162)));
        assert_eq!(content_range("offres */0"), Some((0, 0, 0)));
        assert_eq!(content_range("0-9/10"), Some((0, 9, 10)));
        assert_eq!(content_range("offres 0-149"), None);
        assert_eq!(content_range("offres a-b/c"), None);
    }

    #[test]
    fn pages_never_ask_past_the_cap() {
        assert_eq!(page_range(0), Some((0, 149)));
        assert_eq!(page_range(1), Some((150, 299)));
        assert_eq!(page_range(20), Some((3000, 3149)));
        assert_eq!(page_range(21), None);
        assert_eq!(CAP_PAGES, 21);
        assert_eq!(page_range(u32::MAX), None);
    }

    #[test]
    fn since_days_takes_only_what_the_api_takes() {
        for ok in SINCE_DAYS {
            assert_eq!(since_days(ok), Ok(ok));
        }
        for bad in [0, 2, 5, 30, 365] {
            assert!(since_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_query_splits_into_the_halves_of_its_creation_window() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("date");
        let q = OfferQuery {
            keywords: Some("cuisinier".into()),
            ..OfferQuery::default()
        };
        let Some([first, second]) = split(&q, now) else {
            panic!("two halves");
        };
        let (a, b) = (first.window.expect("a"), second.window.expect("b"));
        assert_eq!(a.0, earliest(now, None));
        assert_eq!(b.1, now);
        assert_eq!(b.0 - a.1, Duration::seconds(1), "no gap, no overlap");
        assert_eq!(first.keywords.as_deref(), Some("cuisinier"));
        let Some([c, d]) = split(&second, now) else {
            panic!("halves of a half");
        };
        assert_eq!((c.window.expect("c").0, d.window.expect("d").1), b);
        let recent = OfferQuery {
            since_days: Some(7),
            ..q.clone()
        };
        let Some([e, _]) = split(&recent, now) else {
            panic!("two halves");
        };
        assert_eq!(e.window.expect("e").0, now - Duration::days(7));
        let tiny = OfferQuery {
            window: Some((now, now)),
            ..q
        };
        assert_eq!(split(&tiny, now), None);
    }

    #[test]
    fn params_are_what_the_api_reads() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("date");
        let q = OfferQuery {
            keywords: Some("développeur".into()),
            commune: Some("75056".into()),
            distance: Some(10),
            contract: Some("CDI,CDD".into()),
            since_days: Some(7),
            window: Some((now - Duration::days(1), now)),
            ..OfferQuery::default()
        };
        let p = q.params();
        assert!(p.contains(&("motsCles", "développeur".into())));
        assert!(p.contains(&("distance", "10".into())));
        assert!(p.contains(&("typeContrat", "CDI,CDD".into())));
        assert!(p.contains(&("publieeDepuis", "7".into())));
        assert!(p.contains(&("minCreationDate", "2026-11-21T12:00:00Z".into())));
        assert!(p.contains(&("maxCreationDate", "2026-11-22T12:00:00Z".into())));
        assert_eq!(q.identity().get("window"), None);
        assert_eq!(q.label(), "développeur");
    }

    #[test]
    fn every_filter_is_sent_and_makes_another_query() {
        use crate::france_travail::filters::{MinSalary, SalaryPeriod};
        let base = OfferQuery {
            keywords: Some("cuisinier".into()),
            ..OfferQuery::default()
        };
        let variants = [
            OfferQuery {
                experience: Some(2),
                ..base.clone()
            },
            OfferQuery {
                qualification: Some(9),
                ..base.clone()
            },
            OfferQuery {
                sector_code: Some("56".into()),
                ..base.clone()
            },
            OfferQuery {
                contract_nature: Some("E2".into()),
                ..base.clone()
            },
            OfferQuery {
                full_time: Some(true),
                ..base.clone()
            },
            OfferQuery {
                full_time: Some(false),
                ..base.clone()
            },
            OfferQuery {
                region: Some("11".into()),
                ..base.clone()
            },
            OfferQuery {
                adapted_company: Some(true),
                ..base.clone()
            },
            OfferQuery {
                min_salary: Some(MinSalary {
                    amount: 1800,
                    period: SalaryPeriod::Month,
                }),
                ..base.clone()
            },
            OfferQuery {
                min_salary: Some(MinSalary {
                    amount: 1800,
                    period: SalaryPeriod::Year,
                }),
                ..base.clone()
            },
        ];
        let sent = [
            vec![("experience", "2")],
            vec![("qualification", "9")],
            vec![("secteurActivite", "56")],
            vec![("natureContrat", "E2")],
            vec![("tempsPlein", "true")],
            vec![("tempsPlein", "false")],
            vec![("region", "11")],
            vec![("entrepriseAdaptee", "true")],
            vec![("salaireMin", "1800"), ("periodeSalaire", "M")],
            vec![("salaireMin", "1800"), ("periodeSalaire", "A")],
        ];
        let mut identities = vec![base.identity()];
        let mut names = vec![base.archive_label()];
        assert_eq!(
            names[0], "cuisinier",
            "keywords alone: the collectors' name"
        );
        for (q, expected) in variants.iter().zip(sent) {
            let params = q.params();
            let expected: Vec<(&str, String)> = expected
                .into_iter()
                .map(|(k, v)| (k, v.to_owned()))
                .collect();
            assert_eq!(params[1..], expected[..], "{q:?}");
            assert!(!identities.contains(&q.identity()), "{q:?}");
            identities.push(q.identity());
            let name = q.archive_label();
            assert!(name.starts_with("cuisinier_") && name.len() == 18, "{name}");
            assert!(!names.contains(&name), "{name}");
            names.push(name);
        }
        assert_eq!(
            variants[8].identity()["min_salary"],
            serde_json::json!({"amount": 1800, "period": "M"})
        );
        let split = split(&variants[4], Utc::now()).expect("halves");
        assert_eq!(split[0].archive_label(), variants[4].archive_label());
        assert_eq!(split[1].full_time, Some(true), "a split keeps the filters");
    }
}
