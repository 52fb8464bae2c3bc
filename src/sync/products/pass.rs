//! The position of a pass over the products listing: where it resumes, saved with every
//! commit in `sync_checkpoints`.

use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::checkpoint;
use super::{Entry, ProductSyncOptions, ReadPage};
use crate::b2b::B2bClient;

/// Longest checkpoint name the `sync_checkpoints` table takes.
pub(super) const MAX_CHECKPOINT_NAME: usize = 64;

/// The checkpoint of a products listing (one per endpoint and site); a digest of the
/// listing when its name would be too long.
pub(super) fn checkpoint_name(opts: &ProductSyncOptions) -> String {
    let listing = match opts.site_id {
        Some(site) => format!("{}?site_id={site}", opts.endpoint),
        None => opts.endpoint.clone(),
    };
    let name = format!("b2b:products:{listing}");
    if name.chars().count() <= MAX_CHECKPOINT_NAME {
        return name;
    }
    let digest = hex::encode(Sha256::digest(listing.as_bytes()));
    format!("b2b:products:{}", &digest[..32])
}

/// Where one pass over the listing stands: the checkpoint's position, saved with every
/// commit, so a run that stops continues where the committed pages end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Pass {
    /// The first run of the pass: a product seen by it or by a later run was seen by
    /// the pass (run ids only grow).
    pub(super) run_id: i32,
    /// The listing's first page: a saved position resumes only the same listing (same
    /// base URL, endpoint, page size and site).
    #[serde(default)]
    pub(super) first: String,
    /// The page to fetch next; `None` once the listing has been read to its end.
    pub(super) next: Option<String>,
    /// The number of the last page applied.
    pub(super) page: u32,
    /// Items received by the pass, every run of it.
    pub(super) received: u64,
    /// The listing's `count`, as its last page applied gave it.
    pub(super) count: Option<u64>,
}

/// The pass to continue (`--restart` forgets it), or a new one from page 1.
pub(super) async fn starting_point(
    db: &DatabaseConnection,
    client: &B2bClient,
    opts: &ProductSyncOptions,
    run_id: i32,
) -> anyhow::Result<Pass> {
    let name = checkpoint_name(opts);
    let first = client
        .first_products_url(&opts.endpoint, opts.page_size, opts.site_id)?
        .to_string();
    if opts.restart && checkpoint::clear(db, &name).await? {
        tracing::info!("--restart: the saved position of {name} is forgotten");
    }
    if let Some(saved) = checkpoint::load(db, &name).await? {
        match serde_json::from_value::<Pass>(saved.position) {
            Ok(pass)
                if pass.first == first
                    && pass
                        .next
                        .as_deref()
                        .is_some_and(|url| client.product_pages_from(url, 0).is_ok()) =>
            {
                tracing::info!(
                    "resuming the products listing at page {} ({} products read since run {}); \
                     --restart starts over",
                    pass.page + 1,
                    pass.received,
                    pass.run_id
                );
                return Ok(pass);
            }
            _ => {
                tracing::warn!(
                    "the saved position of {name} belongs to another listing (B2B_API_URL or \
                     --page-size changed): starting from page 1"
                );
                checkpoint::clear(db, &name).await?;
            }
        }
    }
    Ok(Pass {
        run_id,
        next: Some(first.clone()),
        first,
        page: 0,
        received: 0,
        count: None,
    })
}

impl Pass {
    /// Takes an applied page into the pass, its entries into `items`.
    pub(super) fn take(&mut self, page: ReadPage, items: &mut Vec<Entry>) {
        self.page = page.number;
        self.received += page.entries.len() as u64;
        self.next = page.next;
        if page.count.is_some() {
            self.count = page.count;
        }
        items.extend(page.entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_names_fit_their_column() {
        let name = |endpoint: &str, site_id| {
            checkpoint_name(&ProductSyncOptions {
                endpoint: endpoint.to_owned(),
                site_id,
                ..ProductSyncOptions::default()
            })
        };
        assert_eq!(name("b2c/products/", None), "b2b:products:b2c/products/");
        assert_eq!(
            name("b2c/products/", Some(3)),
            "b2b:products:b2c/products/?site_id=3"
        );
        let long = "v2/very/long/path/to/the/products/listing/of/this/inventory/";
        assert_eq!(name(long, None).len(), MAX_CHECKPOINT_NAME - 19);
        assert_ne!(name(long, None), name(long, Some(1)));
    }
}
