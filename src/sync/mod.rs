//! The sync engine: runs (bookkeeping, locks), and one module per kind of data.
//!
//! Shape: fetch (each upstream's pages cursor) -> parse -> plan (pure) -> apply (the
//! page writer of [`page`]: a page in one savepoint, else one per item; the run's
//! figures and the resume point written in the same commit).

pub mod categories;
pub mod cerema;
pub mod checkpoint;
pub mod offers;
pub mod page;
pub mod products;
pub mod run;
pub mod slug;

use std::sync::Arc;

use tokio::sync::watch;

use serde::Serialize;

pub use run::{RunError, RunReport, RunStatusKind};

/// How many item errors a run keeps in memory for its report (all are stored in
/// `sync_errors`).
pub const ERRORS_LIST_LIMIT: usize = 1000;

/// The figures of one run.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub total: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub missing: u64,
    /// Products a complete run would have marked missing but did not: more than the
    /// share a run may unpublish (see `products::MissingRule`).
    #[serde(skip_serializing_if = "is_zero")]
    pub missing_withheld: u64,
    pub errors: u64,
    pub warnings: u64,
    /// The first [`ERRORS_LIST_LIMIT`] errors and warnings.
    #[serde(rename = "item_errors")]
    pub errors_list: Vec<ItemIssue>,
}

/// One item that could not be applied (or was applied with a reservation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemIssue {
    pub external_id: Option<String>,
    /// What went wrong (`message`, as in `runs show`'s `item_errors`).
    #[serde(rename = "message")]
    pub error: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
    #[serde(skip)]
    pub payload: Option<String>,
}

impl ItemIssue {
    /// An item that was not stored; `payload` is the start of what was received.
    pub fn error(external_id: Option<String>, error: String, payload: Option<String>) -> ItemIssue {
        ItemIssue {
            external_id,
            error,
            warning: false,
            payload,
        }
    }

    /// An item stored with a reservation.
    pub fn warning(
        external_id: Option<String>,
        error: String,
        payload: Option<String>,
    ) -> ItemIssue {
        ItemIssue {
            warning: true,
            ..ItemIssue::error(external_id, error, payload)
        }
    }
}

impl Stats {
    /// Counts an issue, and keeps it for the report while there is room.
    pub fn push_issue(&mut self, issue: ItemIssue) {
        if issue.warning {
            self.warnings += 1;
        } else {
            self.errors += 1;
        }
        if self.errors_list.len() < ERRORS_LIST_LIMIT {
            self.errors_list.push(issue);
        }
    }

    /// Adds another page's figures to these.
    pub fn absorb(&mut self, other: Stats) {
        self.total += other.total;
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.missing += other.missing;
        self.missing_withheld += other.missing_withheld;
        self.errors += other.errors;
        self.warnings += other.warnings;
        let room = ERRORS_LIST_LIMIT.saturating_sub(self.errors_list.len());
        self.errors_list
            .extend(other.errors_list.into_iter().take(room));
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a sync reports while it works; the command layer draws it.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A phase began (`fetching categories`, `linking parents`, ...).
    Phase(&'static str),
    /// A page was applied; `expected` is the upstream's total count when it gives one.
    Page {
        number: u32,
        expected: Option<u64>,
        done: u64,
    },
    /// The run continues an earlier one: it starts at `page`, with `done` items read.
    Resumed { page: u32, done: u64 },
    /// Something the user should see as it happens (a query split in parts).
    Note(String),
}

/// Receives progress; must be cheap (it is called on the sync's path).
pub type Observer = Arc<dyn Fn(Progress) + Send + Sync>;

/// An observer that ignores everything.
pub fn no_observer() -> Observer {
    Arc::new(|_| {})
}

/// Set by Ctrl-C: the sync finishes the current item, commits, and stops.
#[derive(Debug, Clone)]
pub struct Interrupt(Arc<watch::Sender<bool>>);

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt(Arc::new(watch::channel(false).0))
    }
}

impl Interrupt {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the interrupt is set (at once if it already is).
    pub async fn wait(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|set| *set).await;
    }
}

/// The start of an item's JSON, kept with its error to see what was wrong.
pub fn payload_excerpt(item: &serde_json::Value) -> String {
    text_excerpt(item.to_string())
}

/// The first 500 bytes of a text stored as a payload (an item that is not JSON).
pub fn text_excerpt(s: String) -> String {
    const MAX: usize = 500;
    if s.len() <= MAX {
        return s;
    }
    let mut cut = MAX;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}
