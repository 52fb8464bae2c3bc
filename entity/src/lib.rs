//! SeaORM entities of sagasync: one module per table, plus the enums stored in them.
//!
//! This crate knows nothing of HTTP, clap or tokio; table names are part of the
//! public contract (scripts read them), so they never change here without a migration.

pub mod account;
pub mod account_token;
pub mod api_key;
pub mod category;
pub mod cerema_structure;
pub mod cerema_user;
pub mod external_category;
pub mod external_product;
pub mod instant;
pub mod job_offer;
pub mod job_offer_skill;
pub mod money;
pub mod prelude;
pub mod product;
pub mod profile_education;
pub mod profile_experience;
pub mod profile_skill;
pub mod sync_checkpoint;
pub mod sync_error;
pub mod sync_lock;
pub mod sync_run;
