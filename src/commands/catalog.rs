//! `sagasync categories tree|list` and `sagasync products list|show`: the stored catalog.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use entity::prelude::SyncStatus;
use serde::{Deserialize, Serialize};

use super::Context;
use super::format::{
    Format, FormatArgs, ListWriter, Listing, done, stdout, write_list, write_pages, write_record,
};
use super::table::Layout;
use super::values::{depth, list_limit, offset};
use crate::inspect::InspectError;
use crate::inspect::catalog::{
    self, CategoryRow, ProductFilter, ProductKey, ProductRow, TreeFilter, TreeRow,
};

#[derive(Debug, Args)]
pub struct CategoriesArgs {
    #[command(subcommand)]
    pub command: CategoriesCommand,
}

#[derive(Debug, Subcommand)]
pub enum CategoriesCommand {
    /// The category tree, indented, with product counts
    Tree(TreeArgs),
    /// Every category with its parent and product count, by id
    List(CategoriesListArgs),
}

#[derive(Debug, Args)]
pub struct CategoriesListArgs {
    /// Categories shown at most (all when absent)
    #[arg(long, value_parser = list_limit)]
    pub limit: Option<u64>,
    /// Categories skipped before the first shown
    #[arg(long, default_value_t = 0, value_parser = offset)]
    pub offset: u64,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct TreeArgs {
    /// Levels shown (1: the top level, or the root, alone)
    #[arg(long, value_parser = depth)]
    pub depth: Option<u32>,
    /// Only this category (by slug) and what is below it
    #[arg(long)]
    pub root: Option<String>,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct ProductsArgs {
    #[command(subcommand)]
    pub command: ProductsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProductsCommand {
    /// Products by id, filtered
    List(ProductsListArgs),
    /// One product with its external mapping and last sync error
    Show(ProductsShowArgs),
}

/// A product's sync state, as `--status` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProductStatusArg {
    Synced,
    Pending,
    Error,
    Missing,
}

#[derive(Debug, Args)]
pub struct ProductsListArgs {
    /// Only the products of this category (its slug; not its subcategories)
    #[arg(long)]
    pub category: Option<String>,
    /// Only the products whose last sync left them in this state
    #[arg(long, value_enum)]
    pub status: Option<ProductStatusArg>,
    /// Words that must all occur in the title, SKU or brand (accents and case ignored)
    #[arg(long)]
    pub search: Option<String>,
    /// Only available products
    #[arg(long)]
    pub available: bool,
    /// Products shown at most
    #[arg(long, default_value_t = 50, value_parser = list_limit)]
    pub limit: u64,
    /// Products skipped before the first shown (same order, same filters)
    #[arg(long, default_value_t = 0, value_parser = offset)]
    pub offset: u64,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("key").required(true).args(["id", "sku", "external_id"])))]
pub struct ProductsShowArgs {
    /// The product's local id
    pub id: Option<i32>,
    /// Find it by SKU instead
    #[arg(long)]
    pub sku: Option<String>,
    /// Find it by its id in the B2B inventory instead
    #[arg(long)]
    pub external_id: Option<i64>,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// What a narrow terminal leaves out of `products list` first: the mapping and the
/// secondary figures; id, title, price and stock stay longest.
const PRODUCTS_LAYOUT: Layout = Layout {
    drop: &[
        "external_id",
        "updated_at",
        "discount_price",
        "brand",
        "sync_status",
        "is_available",
        "category_slug",
        "sku",
        "stock",
    ],
};

/// What a narrow terminal leaves out of `categories list` first.
const CATEGORIES_LAYOUT: Layout = Layout {
    drop: &["position", "level", "parent_slug", "slug"],
};

/// What a narrow terminal leaves out of `categories tree` first.
const TREE_LAYOUT: Layout = Layout {
    drop: &["slug", "products"],
};

/// A tree line as a table shows it: the name indented by depth.
#[derive(Serialize, Deserialize)]
struct TreeLine {
    category: String,
    slug: String,
    products: u64,
    total_products: u64,
}

pub async fn run_categories(args: CategoriesArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    match args.command {
        CategoriesCommand::List(args) => {
            let listing = Listing {
                empty: "no category stored",
                layout: CATEGORIES_LAYOUT,
                offset: args.offset,
                limit: args.limit.unwrap_or(u64::MAX),
            };
            write_pages::<CategoryRow, _, _>(
                args.format.get(),
                listing,
                async |limit, offset| Ok(catalog::categories(&db, limit, offset).await?),
                async || Ok(catalog::count_categories(&db).await?),
            )
            .await
        }
        CategoriesCommand::Tree(args) => {
            let filter = TreeFilter {
                root: args.root,
                depth: args.depth,
            };
            let rows = catalog::tree(&db, &filter).await.map_err(with_hint)?;
            if args.format.get() != Format::Table {
                return write_list(args.format.get(), &rows, "", Layout::default());
            }
            let lines: Vec<TreeLine> = rows.into_iter().map(tree_line).collect();
            write_list(Format::Table, &lines, "no category stored", TREE_LAYOUT)
        }
    }
}

fn tree_line(r: TreeRow) -> TreeLine {
    let indent = if r.depth == 0 {
        String::new()
    } else {
        format!("{}└ ", "  ".repeat(r.depth as usize - 1))
    };
    TreeLine {
        category: format!("{indent}{}", r.name),
        slug: r.slug,
        products: r.products,
        total_products: r.total_products,
    }
}

/// What to do next when a slug names no category.
fn with_hint(e: InspectError) -> anyhow::Error {
    match e {
        InspectError::NotFound { what, key } => anyhow::anyhow!(
            "no {what} with slug {key:?}: `sagasync categories list` shows the slugs"
        ),
        other => other.into(),
    }
}

pub async fn run_products(args: ProductsArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    match args.command {
        ProductsCommand::List(args) => {
            let filter = ProductFilter {
                category: args.category,
                status: args.status.map(|s| match s {
                    ProductStatusArg::Synced => SyncStatus::Synced,
                    ProductStatusArg::Pending => SyncStatus::Pending,
                    ProductStatusArg::Error => SyncStatus::Error,
                    ProductStatusArg::Missing => SyncStatus::Missing,
                }),
                search: args.search,
                available: args.available.then_some(true),
                limit: args.limit,
                offset: args.offset,
            };
            let format = args.format.get();
            // Streamed straight from the scan: a million products never sit in memory.
            let mut out = ListWriter::new::<ProductRow>(format, stdout()).layout(PRODUCTS_LAYOUT);
            let scanned =
                catalog::each_product(&db, &filter, |row| out.row(&row).map_err(ListError::Write))
                    .await;
            let shown = match scanned {
                Ok(shown) => shown,
                Err(ListError::Inspect(e)) => return Err(with_hint(e)),
                Err(ListError::Write(e)) => return done(Err(e)),
            };
            // Only a table says what part of the list it shows.
            let page = if format == Format::Table && (shown == filter.limit || filter.offset > 0) {
                Some((filter.offset, catalog::count_products(&db, &filter).await?))
            } else {
                None
            };
            done(out.finish("no product matched", page).map(drop))
        }
        ProductsCommand::Show(args) => {
            let key = match (args.id, args.sku, args.external_id) {
                (Some(id), _, _) => ProductKey::Id(id),
                (_, Some(sku), _) => ProductKey::Sku(sku),
                (_, _, Some(ext)) => ProductKey::ExternalId(ext),
                _ => anyhow::bail!("name the product: an id, --sku or --external-id"),
            };
            let Some(product) = catalog::product(&db, &key).await? else {
                let which = match key {
                    ProductKey::Id(id) => format!("with id {id}"),
                    ProductKey::Sku(sku) => format!("with SKU {sku:?}"),
                    ProductKey::ExternalId(ext) => format!("with external id {ext}"),
                };
                anyhow::bail!("no product {which}: `sagasync products list` shows the products");
            };
            done(write_record(args.format.get(), &product, stdout()))
        }
    }
}

/// Why a streamed product list stopped.
enum ListError {
    Inspect(InspectError),
    Write(anyhow::Error),
}

impl From<InspectError> for ListError {
    fn from(e: InspectError) -> Self {
        ListError::Inspect(e)
    }
}
