//! The CQL session and the ways the backend runs a statement on it. Every
//! part of the backend (`Gc`, `Sweep`, `Claims`, the data path) holds the
//! one `Cql` of its store.

use futures_util::TryStreamExt;
use scylla::client::session::Session;
use scylla::deserialize::row::DeserializeRow;
use scylla::serialize::row::SerializeRow;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlValue, Row};

use super::connect::{exec_err, shape_err};
use super::rows::SettingRow;
use crate::storage::StorageError;

pub(super) struct Cql {
    pub session: Session,
}

fn pager_err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Unavailable(format!("scan: {e}"))
}

impl Cql {
    /// Runs a statement and reads every row of its (single) page.
    pub(crate) async fn rows<R>(
        &self,
        stmt: &PreparedStatement,
        values: impl SerializeRow,
    ) -> Result<Vec<R>, StorageError>
    where
        R: for<'f, 'm> DeserializeRow<'f, 'm>,
    {
        let res = self
            .session
            .execute_unpaged(stmt, values)
            .await
            .map_err(exec_err)?;
        let rows = res.into_rows_result().map_err(shape_err)?;
        let out = rows
            .rows::<R>()
            .map_err(shape_err)?
            .collect::<Result<Vec<R>, _>>()
            .map_err(shape_err)?;
        Ok(out)
    }

    pub(crate) async fn exec(
        &self,
        stmt: &PreparedStatement,
        values: impl SerializeRow,
    ) -> Result<(), StorageError> {
        self.session
            .execute_unpaged(stmt, values)
            .await
            .map(|_| ())
            .map_err(exec_err)
    }

    /// Runs a lightweight transaction; whether it applied. The answer's
    /// columns vary with the outcome (`[applied]`, then the current row when
    /// it did not apply), so it is read untyped.
    pub(crate) async fn lwt(
        &self,
        stmt: &PreparedStatement,
        values: impl SerializeRow,
    ) -> Result<bool, StorageError> {
        let res = self
            .session
            .execute_unpaged(stmt, values)
            .await
            .map_err(exec_err)?;
        let rows = res.into_rows_result().map_err(shape_err)?;
        let row: Row = rows.first_row().map_err(shape_err)?;
        Ok(matches!(
            row.columns.first(),
            Some(Some(CqlValue::Boolean(true)))
        ))
    }

    /// Every row of a whole-table query, page by page.
    pub(crate) async fn scan<R>(&self, stmt: &PreparedStatement) -> Result<Vec<R>, StorageError>
    where
        R: for<'f, 'm> DeserializeRow<'f, 'm>,
    {
        self.session
            .execute_iter(stmt.clone(), ())
            .await
            .map_err(pager_err)?
            .rows_stream::<R>()
            .map_err(pager_err)?
            .map_err(pager_err)
            .try_collect()
            .await
    }

    /// A number in `settings`, read with `setting_get`.
    pub(crate) async fn setting_i64(
        &self,
        setting_get: &PreparedStatement,
        name: &str,
    ) -> Result<Option<i64>, StorageError> {
        let rows: Vec<SettingRow> = self.rows(setting_get, (name,)).await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.value)
            .and_then(|v| v.parse().ok()))
    }
}
