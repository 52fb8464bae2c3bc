//! The B2B inventory upstream: its client and its JSON.

pub mod client;
pub mod parse;

pub use client::{B2bClient, B2bError, B2bSettings, Credential, NumberedPage, ProductPages};
