//! The end of a pass: products linked to categories met late, and the products no run
//! of the pass saw marked `missing` within the guard of [`MissingRule`].

use chrono::Utc;
use entity::external_product::{self, SyncStatus};
use entity::prelude::*;
use entity::{external_category, product};
use sea_orm::sea_query::{Expr, Query, QueryStatementBuilder};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::MissingRule;
use crate::db::begin_write;

pub(super) fn withheld_message(would: u64, stored: u64, max_share: f64) -> String {
    let share = would as f64 * 100.0 / stored.max(1) as f64;
    // Never "(10%) ... more than the 10%": a decimal when rounding would hide it.
    let share = if (share - share.round()).abs() < 0.05 {
        format!("{share:.0}")
    } else {
        format!("{share:.1}")
    };
    format!(
        "{would} of the {stored} stored products ({share}%) were not in the listing, more \
         than the {:.0}% a run may mark missing (B2B_MAX_MISSING_PERCENT): none was marked; \
         check the API, then run again with --allow-missing to mark them",
        max_share * 100.0
    )
}

/// What the end of a complete pass did about the products it did not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Missing {
    /// This many became unavailable and `missing`.
    Marked(u64),
    /// None did: `would` of the `stored` products would have, more than the rule allows.
    Withheld { would: u64, stored: u64 },
}

/// After a complete pass: the products no run of it saw (run ids from `pass_run_id` on)
/// become unavailable and `missing`, unless they are more than `rule` allows.
pub(super) async fn mark_missing(
    db: &DatabaseConnection,
    pass_run_id: i32,
    rule: MissingRule,
) -> Result<Missing, DbErr> {
    let not_seen = || {
        Condition::all()
            .add(
                Condition::any()
                    .add(external_product::Column::LastSeenRunId.is_null())
                    .add(external_product::Column::LastSeenRunId.lt(pass_run_id)),
            )
            .add(external_product::Column::SyncStatus.ne(SyncStatus::Missing))
    };
    let txn = begin_write(db).await?;
    let would = ExternalProduct::find()
        .filter(not_seen())
        .count(&txn)
        .await?;
    if would == 0 {
        return Ok(Missing::Marked(0));
    }
    let stored = ExternalProduct::find()
        .filter(external_product::Column::SyncStatus.ne(SyncStatus::Missing))
        .count(&txn)
        .await?;
    if !rule.allow_any && would as f64 > rule.max_share * stored as f64 {
        return Ok(Missing::Withheld { would, stored });
    }
    Product::update_many()
        .col_expr(product::Column::IsAvailable, Expr::value(false))
        .col_expr(product::Column::UpdatedAt, Utc::now().into())
        .filter(
            product::Column::Id.in_subquery(
                Query::select()
                    .column(external_product::Column::ProductId)
                    .from(external_product::Entity)
                    .cond_where(not_seen())
                    .to_owned(),
            ),
        )
        .exec(&txn)
        .await?;
    let marked = ExternalProduct::update_many()
        .col_expr(
            external_product::Column::SyncStatus,
            SyncStatus::Missing.into(),
        )
        .filter(not_seen())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Missing::Marked(marked.rows_affected))
}

/// Products of the pass left without a category because it was unknown when they were
/// written, linked to it now that it is known (a category created by a product later
/// in the listing): the result does not depend on the order pages came in.
pub(super) async fn link_late_categories(
    db: &DatabaseConnection,
    pass_run_id: i32,
) -> Result<u64, DbErr> {
    use external_category::Column as Ec;
    use external_product::Column as Ep;
    use sea_orm::sea_query::ExprTrait;
    let mapped = || {
        Query::select()
            .from(external_product::Entity)
            .inner_join(
                external_category::Entity,
                Expr::col((external_category::Entity, Ec::ExternalId))
                    .equals((external_product::Entity, Ep::ExternalCategoryId)),
            )
            .to_owned()
    };
    let category_of_product = mapped()
        .column((external_category::Entity, Ec::CategoryId))
        .and_where(
            Expr::col((external_product::Entity, Ep::ProductId))
                .equals((product::Entity, product::Column::Id)),
        )
        .limit(1)
        .to_owned();
    let late = mapped()
        .column((external_product::Entity, Ep::ProductId))
        .and_where(Expr::col((external_product::Entity, Ep::LastSeenRunId)).gte(pass_run_id))
        .to_owned();
    let txn = begin_write(db).await?;
    let linked = Product::update_many()
        .col_expr(
            product::Column::CategoryId,
            Expr::SubQuery(
                None,
                Box::new(category_of_product.into_sub_query_statement()),
            ),
        )
        .filter(product::Column::CategoryId.is_null())
        .filter(product::Column::Id.in_subquery(late))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(linked.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_withheld_share_never_reads_as_the_limit() {
        let said = |would, stored| withheld_message(would, stored, 0.10);
        assert!(said(3, 20).starts_with("3 of the 20 stored products (15%)"));
        assert!(said(11, 106).starts_with("11 of the 106 stored products (10.4%)"));
        assert!(said(11, 106).contains("more than the 10%"));
    }
}
