//! sagasync: pulls records from REST APIs into an embedded database through SeaORM
//! models, and lets people inspect and administer what it holds.
//!
//! The library never prints: results leave it as return values and errors; only the
//! command layer (`commands`) renders them.

pub mod archive;
pub mod b2b;
pub mod bench;
pub mod cerema;
pub mod commands;
pub mod console;
pub mod crypto;
pub mod db;
pub mod france_travail;
pub mod http;
pub mod inspect;
pub mod keys;
pub mod profiles;
pub mod sandbox;
pub mod secret;
pub mod serve;
pub mod skills;
pub mod sync;
pub mod telemetry;
pub mod text;
pub mod time;
