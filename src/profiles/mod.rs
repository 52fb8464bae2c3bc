//! Job-seeker profiles: accounts with their skills, work experiences and education
//! (`store`: queries and the rules of each field), and what guards them (`auth`:
//! Argon2id password hashes and login tokens; `throttle`: brute-force protection).
//!
//! Invariant: a password exists only inside a `Secret` in memory: it is stored as an
//! Argon2id hash, never logged, never returned. A login token is stored as its SHA-256
//! only. Every query on a profile's rows filters by the account that owns them.

pub mod auth;
pub mod store;
pub mod throttle;

pub use store::{AccountView, Profile, ProfileError};
