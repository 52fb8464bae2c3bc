//! Console pages: cerema (to be written).

use std::sync::Arc;

use axum::Router;

use crate::serve::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
