//! The CQL session and the ways the backend runs a statement on it. Every
//! part of the backend (`Gc`, `Sweep`, `Claims`, the data path) holds the
//! one `Cql` of its store.

use std::time::Duration;

use futures_util::TryStreamExt;
use scylla::client::session::Session;
use scylla::deserialize::row::DeserializeRow;
use scylla::errors::{DbError, ExecutionError, RequestAttemptError};
use scylla::response::query_result::QueryResult;
use scylla::serialize::row::SerializeRow;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlValue, Row};

use super::connect::{exec_err, shape_err};
use super::rows::SettingRow;
use crate::metric_names as names;
use crate::storage::StorageError;

/// Attempts of a chunk statement that Cassandra timed out (`run_chunk`),
/// and the pause before each retry.
const CHUNK_ATTEMPTS: usize = 3;
const CHUNK_RETRY_PAUSES: [Duration; CHUNK_ATTEMPTS - 1] =
    [Duration::from_millis(100), Duration::from_millis(500)];

/// Whether a failed chunk statement is worth running again: the
/// coordinator timed out waiting for replicas, or a node said it was
/// overloaded. A queue behind a compaction or a flush drains in a moment;
/// answering 503 instead makes the client resend a whole part, and Nginx
/// takes a gateway out after three of them. Anything else (no quorum, a
/// bad statement, the driver's own deadline) is not retried here.
pub(super) fn chunk_retry_helps(e: &ExecutionError) -> bool {
    matches!(
        e,
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(
            DbError::WriteTimeout { .. } | DbError::ReadTimeout { .. } | DbError::Overloaded,
            _,
        ))
    )
}

pub(super) struct Cql {
    pub session: Session,
}

fn pager_err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Unavailable(format!("scan: {e}"))
}

/// Every row of a statement's answer (its single page).
fn rows_of<R>(res: QueryResult) -> Result<Vec<R>, StorageError>
where
    R: for<'f, 'm> DeserializeRow<'f, 'm>,
{
    res.into_rows_result()
        .map_err(shape_err)?
        .rows::<R>()
        .map_err(shape_err)?
        .collect::<Result<Vec<R>, _>>()
        .map_err(shape_err)
}

/// Runs `attempt`, again after each of `pauses` while its error is one
/// `chunk_retry_helps` names; the last error otherwise.
async fn retry_chunk<T, F, Fut>(
    op: &'static str,
    pauses: &[Duration],
    mut attempt: F,
) -> Result<T, ExecutionError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ExecutionError>>,
{
    let mut pauses = pauses.iter();
    loop {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) => match pauses.next() {
                Some(pause) if chunk_retry_helps(&e) => {
                    metrics::counter!(names::CASSANDRA_RETRIES, "op" => op).increment(1);
                    tracing::warn!(error = %e, op, "Cassandra timed out a chunk statement; retrying");
                    tokio::time::sleep(*pause).await;
                }
                _ => return Err(e),
            },
        }
    }
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
        rows_of(res)
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

    /// Runs a chunk statement (a chunk's write or read), again after a
    /// pause while Cassandra times it out (`chunk_retry_helps`), at most
    /// `CHUNK_ATTEMPTS` times. Only for chunk rows: a chunk's bytes never
    /// change once written, so a write applied twice, or applied after a
    /// timeout, leaves the same row, whatever its order with other writes.
    pub(crate) async fn run_chunk<R>(
        &self,
        stmt: &PreparedStatement,
        values: impl SerializeRow,
        op: &'static str,
    ) -> Result<Vec<R>, StorageError>
    where
        R: for<'f, 'm> DeserializeRow<'f, 'm>,
    {
        let res = retry_chunk(op, &CHUNK_RETRY_PAUSES, || {
            self.session.execute_unpaged(stmt, &values)
        })
        .await
        .map_err(exec_err)?;
        // A write answers with no rows at all.
        if !res.is_rows() {
            return Ok(Vec::new());
        }
        rows_of(res)
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scylla::errors::{DbError, ExecutionError, RequestAttemptError, WriteType};
    use scylla::statement::Consistency;

    use super::{chunk_retry_helps, retry_chunk};

    fn db(e: DbError) -> ExecutionError {
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(e, "m".into()))
    }

    /// Replica timeouts and an overloaded node are retried; a lost quorum,
    /// the driver's own deadline and a refused statement are not.
    #[test]
    fn only_timeouts_and_overload_are_retried() {
        let consistency = Consistency::LocalQuorum;
        for (e, want) in [
            (
                db(DbError::WriteTimeout {
                    consistency,
                    received: 1,
                    required: 2,
                    write_type: WriteType::Simple,
                }),
                true,
            ),
            (
                db(DbError::ReadTimeout {
                    consistency,
                    received: 1,
                    required: 2,
                    data_present: false,
                }),
                true,
            ),
            (db(DbError::Overloaded), true),
            (
                db(DbError::Unavailable {
                    consistency,
                    required: 2,
                    alive: 1,
                }),
                false,
            ),
            (db(DbError::Invalid), false),
            (
                ExecutionError::RequestTimeout(Duration::from_secs(10)),
                false,
            ),
            (ExecutionError::EmptyPlan, false),
        ] {
            assert_eq!(chunk_retry_helps(&e), want, "{e}");
        }
    }

    fn timeout() -> ExecutionError {
        db(DbError::WriteTimeout {
            consistency: Consistency::LocalQuorum,
            received: 1,
            required: 2,
            write_type: WriteType::Simple,
        })
    }

    /// Attempts of `retry_chunk` over a list of outcomes: how many ran, and
    /// the result.
    async fn run(outcomes: Vec<Result<u8, ExecutionError>>) -> (usize, Result<u8, String>) {
        let pauses = [Duration::ZERO; 2];
        let outcomes = std::sync::Mutex::new(outcomes.into_iter());
        let mut ran = 0;
        let res = retry_chunk("test", &pauses, || {
            ran += 1;
            let next = outcomes.lock().map(|mut o| o.next());
            async move {
                match next {
                    Ok(Some(outcome)) => outcome,
                    _ => Err(ExecutionError::EmptyPlan),
                }
            }
        })
        .await;
        (ran, res.map_err(|e| e.to_string()))
    }

    /// Two timeouts then success: answered. Three timeouts: the error.
    /// Another error: no second attempt.
    #[tokio::test]
    async fn chunk_statements_ride_out_timeouts_a_bounded_number_of_times() {
        let (ran, res) = run(vec![Err(timeout()), Err(timeout()), Ok(7)]).await;
        assert_eq!((ran, res), (3, Ok(7)));
        let (ran, res) = run(vec![Err(timeout()), Err(timeout()), Err(timeout()), Ok(7)]).await;
        assert_eq!(ran, 3);
        assert!(res.is_err());
        let unavailable = db(DbError::Unavailable {
            consistency: Consistency::LocalQuorum,
            required: 2,
            alive: 1,
        });
        let (ran, res) = run(vec![Err(unavailable), Ok(7)]).await;
        assert_eq!(ran, 1);
        assert!(res.is_err());
    }
}
