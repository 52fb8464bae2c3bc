//! `Instant`: a point in time from an upstream (a Cerema expiry, an offer's creation),
//! stored exactly on every backend, past 2038 included.
//!
//! sqlx binds a `DateTime<Utc>` to MySQL/MariaDB as a TIMESTAMP parameter, which
//! MariaDB turns into a zero date past 2038 (a Cerema access ending in 2099 would be
//! lost). `Instant` binds the UTC wall time as a plain DATETIME parameter instead:
//! DATETIME(6) keeps it on MySQL/MariaDB, PostgreSQL reads it as UTC (sqlx sessions run
//! in UTC) into its TIMESTAMPTZ column, SQLite stores it as text in one format.
//!
//! Invariant: the instant written is the instant read back, to the microsecond.

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, Value, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, QueryResult, TryGetError, TryGetable};
use serde::{Deserialize, Serialize};

/// A UTC instant stored as described in the module doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Instant(pub DateTime<Utc>);

impl From<DateTime<Utc>> for Instant {
    fn from(t: DateTime<Utc>) -> Self {
        Instant(t)
    }
}

impl From<Instant> for Value {
    fn from(t: Instant) -> Self {
        Value::ChronoDateTime(Some(t.0.naive_utc()))
    }
}

impl Nullable for Instant {
    fn null() -> Value {
        Value::ChronoDateTime(None)
    }
}

impl ValueType for Instant {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::ChronoDateTime(Some(t)) => Ok(Instant(t.and_utc())),
            Value::ChronoDateTimeUtc(Some(t)) => Ok(Instant(t)),
            Value::ChronoDateTimeWithTimeZone(Some(t)) => Ok(Instant(t.with_timezone(&Utc))),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "Instant".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::ChronoDateTime
    }

    fn column_type() -> ColumnType {
        ColumnType::TimestampWithTimeZone
    }
}

impl TryGetable for Instant {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        match DateTime::<Utc>::try_get_by(res, idx) {
            Ok(t) => Ok(Instant(t)),
            Err(TryGetError::Null(c)) => Err(TryGetError::Null(c)),
            // A column without an offset (SQLite text, MySQL DATETIME) holds UTC.
            Err(TryGetError::DbErr(_)) => {
                NaiveDateTime::try_get_by(res, idx).map(|t| Instant(t.and_utc()))
            }
        }
    }
}
