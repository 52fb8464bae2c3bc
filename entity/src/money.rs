//! `Money`: an exact decimal amount that stays exact on every backend.
//!
//! SeaORM reads a SQLite `Decimal` through `f64`, and declares SQLite decimal columns
//! `real(p, s)`: both lose exactness. sagasync's money columns are TEXT on SQLite
//! (`decimal_text`, see the migration) and NUMERIC elsewhere; this type binds the
//! decimal as its string form on SQLite and reads it back from text without a float.
//!
//! Invariant: no amount read or written through `Money` ever passes through `f64`,
//! except a legacy SQLite REAL value, which is read exactly as SQLite stored it.

use rust_decimal::Decimal;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, Value, ValueType, ValueTypeErr};
use sea_orm::sqlx::{Row, TypeInfo, ValueRef};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// An exact amount of money (FCFA for the shop; two decimals are kept).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub Decimal);

impl Money {
    pub fn new(amount: Decimal) -> Self {
        Money(amount)
    }

    pub fn amount(self) -> Decimal {
        self.0
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Decimal> for Money {
    fn from(d: Decimal) -> Self {
        Money(d)
    }
}

impl From<Money> for Value {
    fn from(m: Money) -> Self {
        Value::Decimal(Some(m.0))
    }
}

impl Nullable for Money {
    fn null() -> Value {
        Value::Decimal(None)
    }
}

impl ValueType for Money {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::Decimal(Some(d)) => Ok(Money(d)),
            Value::String(Some(s)) => Decimal::from_str(&s).map(Money).map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "Money".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::Decimal
    }

    fn column_type() -> ColumnType {
        ColumnType::Decimal(Some((16, 2)))
    }
}

fn conversion_error(column: impl std::fmt::Debug, detail: impl std::fmt::Display) -> TryGetError {
    TryGetError::DbErr(DbErr::Type(format!(
        "column {column:?} does not hold an exact amount: {detail}"
    )))
}

impl TryGetable for Money {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let Some(row) = res.try_as_sqlite_row() else {
            return Decimal::try_get_by(res, idx).map(Money);
        };
        let raw = row
            .try_get_raw(idx.as_sqlx_sqlite_index())
            .map_err(|e| conversion_error(idx, e))?;
        if raw.is_null() {
            return Err(TryGetError::Null(format!("{idx:?}")));
        }
        let type_name = raw.type_info().name().to_owned();
        let parsed = match type_name.as_str() {
            "INTEGER" => row
                .try_get::<i64, _>(idx.as_sqlx_sqlite_index())
                .map(Decimal::from)
                .map_err(|e| conversion_error(idx, e))?,
            "REAL" => {
                let f = row
                    .try_get::<f64, _>(idx.as_sqlx_sqlite_index())
                    .map_err(|e| conversion_error(idx, e))?;
                Decimal::from_str(&f.to_string()).map_err(|e| conversion_error(idx, e))?
            }
            _ => {
                let s = row
                    .try_get::<String, _>(idx.as_sqlx_sqlite_index())
                    .map_err(|e| conversion_error(idx, e))?;
                Decimal::from_str(s.trim())
                    .map_err(|e| conversion_error(idx, format!("{s:?}: {e}")))?
            }
        };
        Ok(Money(parsed))
    }
}
