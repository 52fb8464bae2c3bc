//! The B2B inventory upstream: its client and its JSON.

pub mod client;
pub mod pages;
pub mod parse;

pub use client::{B2bClient, B2bError, B2bSettings, Credential};
pub use pages::{NumberedPage, ProductPages};
