//! The commit policy: one write transaction spans batches and commits with the run's
//! figures and the pass's position.

use std::time::Instant;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};

use super::super::run::save_figures;
use super::super::{Stats, checkpoint};
use super::pass::Pass;
use super::{COMMIT_AFTER, COMMIT_EVERY_ITEMS};
use crate::db::{begin_write, plan_for_keys};

/// The write transaction kept open across batches (see [`COMMIT_EVERY_ITEMS`]).
pub(super) struct Writer {
    pub(super) open: Option<(DatabaseTransaction, Instant)>,
    /// The figures as last committed.
    pub(super) committed: Stats,
    pub(super) run_id: i32,
    /// The checkpoint the pass's position is saved to.
    pub(super) checkpoint: String,
    /// Where the pass stands after the last page applied (committed with it).
    pub(super) pass: Pass,
}

impl Writer {
    /// The open transaction, begun if there is none.
    pub(super) async fn txn(
        &mut self,
        db: &DatabaseConnection,
    ) -> Result<&DatabaseTransaction, DbErr> {
        let open = match self.open.take() {
            Some(open) => open,
            None => {
                let txn = begin_write(db).await?;
                plan_for_keys(&txn).await?;
                (txn, Instant::now())
            }
        };
        Ok(&self.open.insert(open).0)
    }

    pub(super) async fn commit_if_due(&mut self, stats: &Stats) -> Result<(), DbErr> {
        let done_since_commit = stats.total.saturating_sub(self.committed.total);
        let due = self.open.as_ref().is_some_and(|(_, since)| {
            done_since_commit >= COMMIT_EVERY_ITEMS as u64 || since.elapsed() >= COMMIT_AFTER
        });
        if due {
            self.commit(stats).await?;
        }
        Ok(())
    }

    /// Commits the open transaction, if any, with the run's figures and the position.
    pub(super) async fn commit(&mut self, stats: &Stats) -> Result<(), DbErr> {
        if let Some((txn, _)) = self.open.take() {
            save_figures(&txn, self.run_id, stats).await?;
            if self.pass.next.is_some() {
                let position = serde_json::to_value(&self.pass)
                    .map_err(|e| DbErr::Custom(format!("cannot save the position: {e}")))?;
                checkpoint::save(
                    &txn,
                    &self.checkpoint,
                    self.run_id,
                    position,
                    self.pass.received,
                )
                .await?;
            } else {
                checkpoint::clear(&txn, &self.checkpoint).await?;
            }
            txn.commit().await?;
            self.committed = stats.clone();
        }
        Ok(())
    }
}
