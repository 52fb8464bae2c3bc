//! Sync runs: the `sync_runs` row, the per-kind lock with its heartbeat, item errors,
//! and how a run ends.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::sync_run::{RunStatus, Source};
use entity::{sync_error, sync_lock, sync_run};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set,
};
use serde::Serialize;
use tokio::task::JoinHandle;

use super::{ItemIssue, Stats};
use crate::db::{begin_write, is_unique_violation};

/// How often a running sync proves it is alive.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// A lock whose heartbeat is older than this belongs to a process that is gone.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// A sync that could not run or could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "another {name} sync is running: run {run_id} ({holder}), alive at {heartbeat_at}; \
         wait for it to finish (a lock left by a killed process is taken over after {}s)",
        STALE_AFTER.as_secs()
    )]
    Locked {
        name: String,
        run_id: i32,
        holder: String,
        heartbeat_at: DateTime<Utc>,
    },
    /// The cause is part of the message (not a `source`), so `{:#}` says it once.
    #[error("run {run_id} failed: {cause:#}")]
    Failed { run_id: i32, cause: anyhow::Error },
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatusKind {
    Succeeded,
    Interrupted,
}

impl RunStatusKind {
    /// The status as reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatusKind::Succeeded => "succeeded",
            RunStatusKind::Interrupted => "interrupted",
        }
    }
}

/// What a finished run reports.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: i32,
    pub status: RunStatusKind,
    /// What the user must know about a run that did its work but held something back
    /// (stored as the run's message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(flatten)]
    pub stats: Stats,
}

/// A run in progress: its row, its lock and the heartbeat keeping the lock alive.
pub struct Run {
    pub id: i32,
    lock_name: String,
    heartbeat: JoinHandle<()>,
}

fn holder() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("pid {} on {host}", std::process::id())
}

fn source_name(source: Source) -> &'static str {
    match source {
        Source::B2b => "b2b",
        Source::Cerema => "cerema",
        Source::FranceTravail => "france_travail",
    }
}

impl Run {
    /// Takes the lock of `source:kind` (or says who holds it) and opens the run row.
    pub async fn start(
        db: &DatabaseConnection,
        source: Source,
        kind: &str,
        options: serde_json::Value,
    ) -> Result<Run, RunError> {
        let lock_name = format!("{}:{kind}", source_name(source));
        let now = Utc::now();
        let txn = begin_write(db).await?;
        if let Some(lock) = SyncLock::find_by_id(lock_name.clone()).one(&txn).await? {
            let age = now.signed_duration_since(lock.heartbeat_at);
            if age.to_std().unwrap_or_default() < STALE_AFTER {
                return Err(RunError::Locked {
                    name: lock_name,
                    run_id: lock.run_id,
                    holder: lock.holder,
                    heartbeat_at: lock.heartbeat_at,
                });
            }
            tracing::warn!(
                "taking over the {lock_name} lock of run {} ({}), silent since {}",
                lock.run_id,
                lock.holder,
                lock.heartbeat_at
            );
            abandon(&txn, lock.run_id, now).await?;
            SyncLock::delete_by_id(lock_name.clone()).exec(&txn).await?;
        }
        let run = sync_run::ActiveModel {
            source: Set(source),
            kind: Set(kind.to_owned()),
            options: Set(options),
            status: Set(RunStatus::Running),
            started_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let lock = sync_lock::ActiveModel {
            name: Set(lock_name.clone()),
            run_id: Set(run.id),
            holder: Set(holder()),
            acquired_at: Set(now),
            heartbeat_at: Set(now),
        };
        if let Err(e) = SyncLock::insert(lock).exec(&txn).await {
            txn.rollback().await?;
            // Another process took it between our read and our write.
            if is_unique_violation(&e)
                && let Some(lock) = SyncLock::find_by_id(lock_name.clone()).one(db).await?
            {
                return Err(RunError::Locked {
                    name: lock_name,
                    run_id: lock.run_id,
                    holder: lock.holder,
                    heartbeat_at: lock.heartbeat_at,
                });
            }
            return Err(e.into());
        }
        txn.commit().await?;
        let heartbeat = tokio::spawn(beat(db.clone(), lock_name.clone(), run.id));
        Ok(Run {
            id: run.id,
            lock_name,
            heartbeat,
        })
    }

    /// Ends the run: its figures and status on the row, the lock released.
    pub async fn finish(
        self,
        db: &DatabaseConnection,
        stats: &Stats,
        status: RunStatus,
        message: Option<String>,
    ) -> Result<(), DbErr> {
        self.heartbeat.abort();
        let txn = begin_write(db).await?;
        save_figures(&txn, self.id, stats).await?;
        SyncRun::update_many()
            .col_expr(sync_run::Column::Status, status.into())
            .col_expr(sync_run::Column::FinishedAt, Some(Utc::now()).into())
            .col_expr(sync_run::Column::Message, message.into())
            .filter(sync_run::Column::Id.eq(self.id))
            .exec(&txn)
            .await?;
        SyncLock::delete_many()
            .filter(sync_lock::Column::Name.eq(self.lock_name.as_str()))
            .filter(sync_lock::Column::RunId.eq(self.id))
            .exec(&txn)
            .await?;
        txn.commit().await
    }
}

/// Marks a run whose process vanished as interrupted.
async fn abandon(db: &impl ConnectionTrait, run_id: i32, now: DateTime<Utc>) -> Result<(), DbErr> {
    SyncRun::update_many()
        .col_expr(sync_run::Column::Status, RunStatus::Interrupted.into())
        .col_expr(sync_run::Column::FinishedAt, Some(now).into())
        .col_expr(
            sync_run::Column::Message,
            Some("abandoned: its process stopped without finishing".to_owned()).into(),
        )
        .filter(sync_run::Column::Id.eq(run_id))
        .filter(sync_run::Column::Status.eq(RunStatus::Running))
        .exec(db)
        .await?;
    Ok(())
}

async fn beat(db: DatabaseConnection, lock_name: String, run_id: i32) {
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let result = SyncLock::update_many()
            .col_expr(sync_lock::Column::HeartbeatAt, Utc::now().into())
            .filter(sync_lock::Column::Name.eq(lock_name.as_str()))
            .filter(sync_lock::Column::RunId.eq(run_id))
            .exec(&db)
            .await;
        if let Err(e) = result {
            tracing::warn!("cannot refresh the {lock_name} lock: {e}");
        }
    }
}

impl Run {
    /// Ends the run as its work ended: `Ok(true)` succeeded, `Ok(false)` interrupted
    /// (with `interrupted` as its message), `Err` failed (the error is returned too).
    pub async fn conclude(
        self,
        db: &DatabaseConnection,
        stats: Stats,
        outcome: anyhow::Result<bool>,
        interrupted: String,
    ) -> Result<RunReport, RunError> {
        self.conclude_noted(db, stats, outcome, interrupted, None)
            .await
    }

    /// As [`Run::conclude`], a succeeded run carrying `note` as its message.
    pub async fn conclude_noted(
        self,
        db: &DatabaseConnection,
        stats: Stats,
        outcome: anyhow::Result<bool>,
        interrupted: String,
        note: Option<String>,
    ) -> Result<RunReport, RunError> {
        let run_id = self.id;
        let (status, kind, message) = match outcome {
            Ok(true) => (RunStatus::Succeeded, RunStatusKind::Succeeded, note),
            Ok(false) => (
                RunStatus::Interrupted,
                RunStatusKind::Interrupted,
                Some(interrupted),
            ),
            Err(error) => {
                let message = Some(format!("{error:#}"));
                if let Err(e) = self.finish(db, &stats, RunStatus::Failed, message).await {
                    tracing::error!("cannot record the failure of run {run_id}: {e}");
                }
                return Err(RunError::Failed {
                    run_id,
                    cause: error,
                });
            }
        };
        self.finish(db, &stats, status, message.clone()).await?;
        Ok(RunReport {
            run_id,
            status: kind,
            message: message.filter(|_| kind == RunStatusKind::Succeeded),
            stats,
        })
    }
}

/// Writes the run's figures so far (inside the caller's page transaction: the
/// checkpoint commits with the page).
pub async fn save_figures(
    db: &impl ConnectionTrait,
    run_id: i32,
    stats: &Stats,
) -> Result<(), DbErr> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    SyncRun::update_many()
        .col_expr(sync_run::Column::Total, n(stats.total).into())
        .col_expr(sync_run::Column::Created, n(stats.created).into())
        .col_expr(sync_run::Column::Updated, n(stats.updated).into())
        .col_expr(sync_run::Column::Unchanged, n(stats.unchanged).into())
        .col_expr(sync_run::Column::Missing, n(stats.missing).into())
        .col_expr(sync_run::Column::Errors, n(stats.errors).into())
        .filter(sync_run::Column::Id.eq(run_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores item issues in `sync_errors` (warnings are prefixed `warning: `).
pub async fn save_issues(
    db: &impl ConnectionTrait,
    run_id: i32,
    issues: &[ItemIssue],
) -> Result<(), DbErr> {
    if issues.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    for chunk in issues.chunks(200) {
        let rows = chunk.iter().map(|i| sync_error::ActiveModel {
            run_id: Set(run_id),
            external_id: Set(i
                .external_id
                .as_ref()
                .map(|s| s.chars().take(128).collect())),
            message: Set(if i.warning {
                format!("warning: {}", i.error)
            } else {
                i.error.clone()
            }),
            payload: Set(i.payload.clone()),
            created_at: Set(now),
            ..Default::default()
        });
        sync_error::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}
