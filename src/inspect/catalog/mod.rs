//! The catalog: categories (a list, and the tree with product counts) and products
//! (filtered lists streamed in keyset batches, and one product with its mapping).

mod categories;
mod products;

pub use categories::{
    CategoryRow, TreeFilter, TreeRow, categories, category_id, count_categories, tree,
};
pub use products::{
    ExternalLink, PRODUCTS_RUN, ProductDetail, ProductFilter, ProductKey, ProductRow,
    count_products, each_product, product, product_errors, product_run, products,
};
