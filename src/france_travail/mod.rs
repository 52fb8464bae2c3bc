//! The France Travail "Offres d'emploi v2" upstream: its client (searches and one
//! offer's details), its JSON, and the queries (their filters, and their split past
//! the 3,150-offer cap).

pub mod client;
pub mod filters;
pub mod parse;
pub mod query;

pub use client::{
    DEFAULT_API_URL, DEFAULT_AUTH_URL, DEFAULT_RATE, DEFAULT_SCOPE, FtClient, FtError, FtSettings,
    OfferPages, SearchPage,
};
pub use query::OfferQuery;
