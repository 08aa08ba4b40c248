//! What `s3gw admin` prints: each answer of the admin API as text for
//! people (aligned tables, `yes`/`no`) or as JSON for scripts.
//!
//! Owns only formatting: pure functions from a JSON answer to the text,
//! so each is tested on a fixed value. A field the answer lacks prints as
//! `-`. Writing to stdout is the caller's.

use serde_json::Value;

/// The stderr line under the secret of a new key.
pub const SECRET_SHOWN_ONCE: &str =
    "the secret access key is shown only this once: store it now, the gateway will not show it again";

/// The answer as it came, as indented JSON.
pub fn json(answer: &Value) -> String {
    let mut out = serde_json::to_string_pretty(answer).unwrap_or_else(|_| answer.to_string());
    out.push('\n');
    out
}

/// The new key as the two lines a shell can `eval` or an env file hold:
/// `AWS_ACCESS_KEY_ID=…` and `AWS_SECRET_ACCESS_KEY=…`.
pub fn created_key(key: &Value) -> Result<String, String> {
    let field = |name: &str| {
        key.get(name).and_then(Value::as_str).ok_or_else(|| {
            format!("the gateway's answer has no {name}: is it older than this s3gw?")
        })
    };
    Ok(format!(
        "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
        field("access_key_id")?,
        field("secret_access_key")?
    ))
}

/// `{"keys": [...]}` as a table: id, name, created, create_bucket, admin.
pub fn key_list(answer: &Value) -> String {
    let rows: Vec<Vec<String>> = items(answer, "keys")
        .iter()
        .map(|k| {
            vec![
                text(k, "access_key_id"),
                text(k, "name"),
                text(k, "created"),
                flag(k, "create_bucket"),
                flag(k, "admin"),
            ]
        })
        .collect();
    table(
        &["ACCESS_KEY_ID", "NAME", "CREATED", "CREATE_BUCKET", "ADMIN"],
        &rows,
    )
}

/// A key and the permissions it holds on each bucket.
pub fn key_info(key: &Value) -> String {
    let mut out = fields(&[
        ("access key id", text(key, "access_key_id")),
        ("name", text(key, "name")),
        ("created", text(key, "created")),
        ("create bucket", flag(key, "create_bucket")),
        ("admin", flag(key, "admin")),
    ]);
    let rows: Vec<Vec<String>> = items(key, "buckets")
        .iter()
        .map(|b| {
            vec![
                text(b, "bucket"),
                flag(b, "read"),
                flag(b, "write"),
                flag(b, "owner"),
            ]
        })
        .collect();
    if rows.is_empty() {
        out.push_str("buckets: none\n");
    } else {
        out.push_str("buckets:\n");
        out.push_str(&indent(&table(
            &["BUCKET", "READ", "WRITE", "OWNER"],
            &rows,
        )));
    }
    out
}

/// A bucket: its owner, size, the keys granted on it and its policy.
pub fn bucket_info(bucket: &Value) -> String {
    let mut out = fields(&[
        ("bucket", text(bucket, "bucket")),
        ("created", text(bucket, "created")),
        ("owner", text(bucket, "owner")),
        ("objects", text(bucket, "objects")),
        ("bytes", bytes(bucket.get("bytes"))),
    ]);
    let rows: Vec<Vec<String>> = items(bucket, "grants")
        .iter()
        .map(|g| {
            let name = match g.get("name") {
                Some(Value::Null) => "(key deleted)".to_owned(),
                _ => text(g, "name"),
            };
            vec![
                text(g, "access_key_id"),
                name,
                flag(g, "read"),
                flag(g, "write"),
                flag(g, "owner"),
            ]
        })
        .collect();
    if rows.is_empty() {
        out.push_str("grants: none\n");
    } else {
        out.push_str("grants:\n");
        out.push_str(&indent(&table(
            &["ACCESS_KEY_ID", "NAME", "READ", "WRITE", "OWNER"],
            &rows,
        )));
    }
    match bucket.get("policy") {
        None | Some(Value::Null) => out.push_str("policy: none\n"),
        Some(policy) => {
            out.push_str("policy:\n");
            out.push_str(&indent(&json(policy)));
        }
    }
    out
}

/// The line after a key is deleted.
pub fn deleted_key(access_key_id: &str) -> String {
    format!("deleted key {access_key_id}\n")
}

/// The array `name` of `v`; empty when absent.
fn items<'a>(v: &'a Value, name: &str) -> &'a [Value] {
    v.get(name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A field as text: strings bare, absent or null as `-`, the rest as JSON.
fn text(v: &Value, name: &str) -> String {
    match v.get(name) {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A boolean field as `yes` / `no` (`-` when it is not a boolean).
fn flag(v: &Value, name: &str) -> String {
    match v.get(name).and_then(Value::as_bool) {
        Some(true) => "yes".to_owned(),
        Some(false) => "no".to_owned(),
        None => "-".to_owned(),
    }
}

/// A byte count, with its binary-prefixed size past 1 KiB.
fn bytes(v: Option<&Value>) -> String {
    let Some(n) = v.and_then(Value::as_u64) else {
        return v.map_or_else(|| "-".to_owned(), Value::to_string);
    };
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return n.to_string();
    }
    // Display only: the precision lost above 2^53 bytes does not show.
    let mut size = n as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{n} ({size:.1} {})", UNITS[unit])
}

/// `label: value` lines, values aligned.
fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(l, _)| l.len() + 1).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(label, value)| format!("{:<width$}  {value}\n", format!("{label}:")))
        .collect()
}

/// Columns separated by two spaces and padded to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let head: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(&head).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Every line indented by two spaces.
fn indent(block: &str) -> String {
    block.lines().map(|l| format!("  {l}\n")).collect()
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
