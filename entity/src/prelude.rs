//! Short names for every entity: `use entity::prelude::*`.

pub use super::account::Entity as Account;
pub use super::account_token::Entity as AccountToken;
pub use super::api_key::Entity as ApiKey;
pub use super::category::Entity as Category;
pub use super::cerema_structure::Entity as CeremaStructure;
pub use super::cerema_user::Entity as CeremaUser;
pub use super::external_category::Entity as ExternalCategory;
pub use super::external_product::{Entity as ExternalProduct, SyncStatus};
pub use super::instant::Instant;
pub use super::job_offer::Entity as JobOffer;
pub use super::job_offer_skill::Entity as JobOfferSkill;
pub use super::money::Money;
pub use super::product::Entity as Product;
pub use super::profile_education::Entity as ProfileEducation;
pub use super::profile_experience::Entity as ProfileExperience;
pub use super::profile_skill::Entity as ProfileSkill;
pub use super::sync_checkpoint::Entity as SyncCheckpoint;
pub use super::sync_error::Entity as SyncError;
pub use super::sync_lock::Entity as SyncLock;
pub use super::sync_run::{Entity as SyncRun, RunStatus, Source};
