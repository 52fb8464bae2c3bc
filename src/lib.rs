//! sagasync: pulls records from REST APIs into an embedded database through SeaORM
//! models, and lets people inspect and administer what it holds.
//!
//! The library never prints: results leave it as return values and errors; only the
//! command layer (`commands`) renders them.

pub mod b2b;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod crypto;
pub mod db;
pub mod http;
pub mod keys;
pub mod sandbox;
pub mod secret;
pub mod sync;
pub mod telemetry;
