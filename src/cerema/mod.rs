//! The Cerema Portail DF upstream (users and structures): its client and its JSON.

pub mod client;
pub mod parse;

pub use client::{
    CeremaAuth, CeremaClient, CeremaError, CeremaKind, CeremaPages, CeremaSettings,
    DEFAULT_CEREMA_API_URL, NumberedPage,
};
