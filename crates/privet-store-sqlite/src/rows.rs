//! Reading query results into model types, so every table maps SQLite failures alike: a
//! failed query or an unreadable column is a backend error naming the operation, a stored
//! value the model rejects is whatever the table's decoder says (`Corrupt`), and a missing
//! row is `None` for the caller to name as `NotFound`.
//!
//! A table either reads a row itself (`collect`, `first`) or takes the row's columns as a
//! tuple of stored types, in `SELECT` order, and checks them into the model with a `decode`
//! function (`decode_all`, `decode_first`).

use privet_store::{Context, Result};
use rusqlite::{Connection, OptionalExtension, Params, Row, Statement};

/// A row's columns as a tuple of stored types, in `SELECT` order; rusqlite reads tuples of up
/// to 16 columns.
fn columns<R>(r: &Row<'_>) -> rusqlite::Result<R>
where
    R: for<'a> TryFrom<&'a Row<'a>, Error = rusqlite::Error>,
{
    R::try_from(r)
}

/// Every row `stmt` yields for `params`, each read by `read`, in the query's order.
pub(crate) fn collect<T>(
    stmt: &mut Statement<'_>,
    params: impl Params,
    op: &'static str,
    mut read: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut rows = stmt.query(params).op(op)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().op(op)? {
        out.push(read(r)?);
    }
    Ok(out)
}

/// The first row `stmt` yields for `params`, read by `read`; `None` if it yields none.
pub(crate) fn first<T>(
    stmt: &mut Statement<'_>,
    params: impl Params,
    op: &'static str,
    read: impl FnOnce(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut rows = stmt.query(params).op(op)?;
    rows.next().op(op)?.map(read).transpose()
}

/// Every row `stmt` yields for `params`, its columns read as a tuple and checked by `decode`.
pub(crate) fn decode_all<R, T>(
    stmt: &mut Statement<'_>,
    params: impl Params,
    op: &'static str,
    mut decode: impl FnMut(R) -> Result<T>,
) -> Result<Vec<T>>
where
    R: for<'a> TryFrom<&'a Row<'a>, Error = rusqlite::Error>,
{
    collect(stmt, params, op, |r| decode(columns(r).op(op)?))
}

/// The first row `sql` selects with `params`, its columns read as a tuple and checked by
/// `decode`; `None` if there is none. The statement is prepared for this one read, not cached.
pub(crate) fn decode_first<R, T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    op: &'static str,
    decode: impl FnOnce(R) -> Result<T>,
) -> Result<Option<T>>
where
    R: for<'a> TryFrom<&'a Row<'a>, Error = rusqlite::Error>,
{
    c.query_row(sql, params, columns)
        .optional()
        .op(op)?
        .map(decode)
        .transpose()
}
