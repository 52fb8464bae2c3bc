//! The integration tests: one binary, so it links once.
//!
//! Tests that touch a database run on SQLite always, and on PostgreSQL and MariaDB
//! when `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` are set (in CI, where `CI=true`, a
//! missing URL fails the test). Each test gets a fresh database of its own.

mod helpers;

mod accounts;
mod archive;
mod b2b;
mod browser;
mod catalog;
mod cerema;
mod check;
mod cli;
mod concurrent_fetch;
mod console;
mod db_guarantees;
mod demo;
mod france_travail;
mod ft_collect;
mod ft_filters;
mod ft_offer;
mod ft_sandbox;
mod help;
mod hostile_catalog;
mod hostile_http;
mod inspect;
mod json_shapes;
mod keys;
mod migrations;
mod output;
mod profiles;
mod recommend;
mod rome;
mod sandbox;
mod schema;
mod serve;
mod skills;
mod sync_cli;
