//! The keyspace and its tables, created or upgraded idempotently at every
//! start (and by `s3gw migrate`). `docs/storage-model.md` explains each
//! table, its compaction strategy and its `gc_grace_seconds`.

use scylla::client::session::Session;
use scylla::value::{CqlValue, Row};

use super::connect::{exec_err, shape_err};
use super::options::CassandraOptions;
use crate::storage::StorageError;

/// The version this build writes; a keyspace at a newer version is
/// refused, an older one is upgraded by the steps in `MIGRATIONS`.
pub const SCHEMA_VERSION: i32 = 14;

/// Tables of version 1. `{ks}` is the keyspace.
const V1: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS {ks}.settings (name text PRIMARY KEY, value text)",
    "CREATE TABLE IF NOT EXISTS {ks}.buckets (
        name text PRIMARY KEY, id uuid, created_ms bigint, region text)",
    // Heads and the key index in one row: the head write is the commit
    // point. Partitions are (bucket, shard) so a bucket's keys spread over
    // `index_shards` partitions; clustering order is UTF-8 byte order.
    "CREATE TABLE IF NOT EXISTS {ks}.objects (
        bucket uuid, shard smallint, key text,
        version uuid, etag text, head text, parts text,
        PRIMARY KEY ((bucket, shard), key))
     WITH compaction = {'class': 'LeveledCompactionStrategy'}",
    // One partition per chunk: small, spread over the ring, deleted whole.
    // Version 3 adds `crc int` (`V3_COLUMNS`).
    "CREATE TABLE IF NOT EXISTS {ks}.chunks (
        blob uuid, idx int, data blob,
        PRIMARY KEY ((blob, idx)))
     WITH compaction = {'class': 'UnifiedCompactionStrategy'}
      AND compression = {'enabled': 'false'}
      AND gc_grace_seconds = 10800",
    // Blobs being written, filed by the hour they started (from the
    // version-7 blob id), so the collector can find what a crash left.
    "CREATE TABLE IF NOT EXISTS {ks}.pending_blobs (
        slot bigint, blob uuid,
        PRIMARY KEY (slot, blob))
     WITH gc_grace_seconds = 10800",
    // Released blobs, filed by the minute after which they may go.
    "CREATE TABLE IF NOT EXISTS {ks}.gc_queue (
        slot bigint, blob uuid, chunks int,
        PRIMARY KEY (slot, blob))
     WITH gc_grace_seconds = 10800",
    "CREATE TABLE IF NOT EXISTS {ks}.uploads (
        bucket uuid, key text, upload_id text, record text,
        PRIMARY KEY (bucket, key, upload_id))
     WITH compaction = {'class': 'LeveledCompactionStrategy'}",
    // Every version of a part is kept until Complete or Abort, which
    // release all but the ones the object uses.
    "CREATE TABLE IF NOT EXISTS {ks}.parts (
        upload_id text, part_number int, blob uuid, record text,
        PRIMARY KEY (upload_id, part_number, blob))
     WITH compaction = {'class': 'LeveledCompactionStrategy'}",
];

/// Version 2: the claims that let one request finish a multipart upload
/// (`claims.rs`; rows expire after a day, long after their upload ended),
/// and a one-day `gc_grace_seconds` for the key index and uploads instead
/// of the default ten days, so the tombstones of deleted keys stop slowing
/// listings after a day (docs/storage-model.md gives the trade-off).
const V2: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS {ks}.upload_claims (
        upload_id text PRIMARY KEY, finisher uuid, claimed_ms bigint, committed text)
     WITH default_time_to_live = 86400
      AND gc_grace_seconds = 10800",
    "ALTER TABLE {ks}.objects WITH gc_grace_seconds = 86400",
    "ALTER TABLE {ks}.uploads WITH gc_grace_seconds = 86400",
    "ALTER TABLE {ks}.parts WITH gc_grace_seconds = 86400",
];

/// A column that a step adds to an existing table.
struct NewColumn {
    table: &'static str,
    column: &'static str,
    cql_type: &'static str,
}

/// Version 3: the CRC32C of each chunk's data (`crate::storage::chunk_crc`,
/// bit-cast to `int`), checked on every read and by `fsck`. Rows written
/// before version 3 have none and are served unchecked.
const V3_COLUMNS: &[NewColumn] = &[NewColumn {
    table: "chunks",
    column: "crc",
    cql_type: "int",
}];

/// Version 4: what each pending blob is for (`BlobOwner` as JSON), so the
/// sweep can decide on the blob of an upload that never committed
/// (`sweep.rs`). Rows written before version 4 have none and are left
/// alone.
const V4_COLUMNS: &[NewColumn] = &[
    NewColumn {
        table: "pending_blobs",
        column: "owner",
        cql_type: "text",
    },
    // The bytes a released blob holds, for the collector's figures.
    NewColumn {
        table: "gc_queue",
        column: "bytes",
        cql_type: "bigint",
    },
];

/// Version 4 also files deleted buckets until their leftovers are cleaned
/// up (`dropped.rs`).
const V4: &[&str] = &["CREATE TABLE IF NOT EXISTS {ks}.dropped_buckets (
        id uuid PRIMARY KEY, dropped_ms bigint)"];

/// Version 5: the ETag a Complete committed to (`claims.rs`), so that the
/// client's retry of a Complete whose request died between its commit and
/// its head write can write that head itself.
const V5_COLUMNS: &[NewColumn] = &[NewColumn {
    table: "upload_claims",
    column: "etag",
    cql_type: "text",
}];

/// Version 6: the gateways' status documents for the dashboard (`status.rs`):
/// heartbeats every 2 s and bucket usage, each replacing its last one and
/// expiring after a day; one small partition per kind.
const V6: &[&str] = &["CREATE TABLE IF NOT EXISTS {ks}.gateway_status (
        kind text, id text, doc text,
        PRIMARY KEY (kind, id))
     WITH gc_grace_seconds = 3600"];

/// Version 7: access keys (issue 17), one row per key holding its record
/// as JSON (the secret in it sealed, `crate::access::seal`); the
/// `keys_epoch` setting changes with every key change.
const V7: &[&str] = &["CREATE TABLE IF NOT EXISTS {ks}.access_keys (
        id text PRIMARY KEY, doc text)"];

/// Version 7 also gives each bucket its creator and the grants of keys on
/// it (`Grant::letters` by access key id), changed only by lightweight
/// transactions, as every write of a bucket row is.
const V7_COLUMNS: &[NewColumn] = &[
    NewColumn {
        table: "buckets",
        column: "owner",
        cql_type: "text",
    },
    NewColumn {
        table: "buckets",
        column: "grants",
        cql_type: "map<text, text>",
    },
];

/// Version 8: each bucket's policy (`crate::access::policy`), the document
/// as its owner put it, set by a lightweight transaction.
const V8_COLUMNS: &[NewColumn] = &[NewColumn {
    table: "buckets",
    column: "policy",
    cql_type: "text",
}];

/// Version 9: an inline object's bytes in its head row (`objects.rs`,
/// docs/storage-model.md "Inline objects"); null or absent for every
/// other head, and never selected by a listing.
const V9_COLUMNS: &[NewColumn] = &[NewColumn {
    table: "objects",
    column: "data",
    cql_type: "blob",
}];

/// Version 10: each bucket's tag set (PutBucketTagging), JSON pairs in
/// the order put, set by a lightweight transaction like the policy.
const V10_COLUMNS: &[NewColumn] = &[NewColumn {
    table: "buckets",
    column: "tags",
    cql_type: "text",
}];

/// Version 11: the tags of an object's last tag change (PutObjectTagging,
/// DeleteObjectTagging), JSON pairs, and the row version they were set
/// for, written apart from the head so that a tag change never rewrites
/// a head (`objects::set_object_tags`). Read only while `tags_for` is the
/// row's version.
const V11_COLUMNS: &[NewColumn] = &[
    NewColumn {
        table: "objects",
        column: "tags",
        cql_type: "text",
    },
    NewColumn {
        table: "objects",
        column: "tags_for",
        cql_type: "uuid",
    },
];

/// Version 12: versions (docs/storage-model.md "Versions"). `objects`
/// keeps each key's current version, a delete marker too; the noncurrent
/// ones are rows of `object_versions` in the key's shard, ordered by key,
/// then `inv` (minus the version's time in µs: newest first), then `vid`
/// (the version id, or `null`). A row whose `vid` is the current
/// version's is a copy left by a write that lost its race, and is not
/// read. Tombstones of deleted versions are read by listings of the key
/// until compaction purges them, hence one day of grace as for `objects`.
const V12: &[&str] = &["CREATE TABLE IF NOT EXISTS {ks}.object_versions (
        bucket uuid, shard smallint, key text, inv bigint, vid text,
        head text, parts text, data blob,
        PRIMARY KEY ((bucket, shard), key, inv, vid))
     WITH compaction = {'class': 'LeveledCompactionStrategy'}
      AND gc_grace_seconds = 86400"];

/// Version 12 also gives each bucket its versioning state
/// (`VersioningState::as_str`; null while never versioned), set by a
/// lightweight transaction like its policy.
const V12_COLUMNS: &[NewColumn] = &[NewColumn {
    table: "buckets",
    column: "versioning",
    cql_type: "text",
}];

/// Version 13: each bucket's lifecycle configuration (`LifecycleConfig`
/// as JSON; null without one), set by a lightweight transaction like its
/// policy.
const V13_COLUMNS: &[NewColumn] = &[NewColumn {
    table: "buckets",
    column: "lifecycle",
    cql_type: "text",
}];

/// Version 14: each bucket's CORS configuration (`CorsConfig` as JSON;
/// null without one), set by a lightweight transaction like its policy.
const V14_COLUMNS: &[NewColumn] = &[NewColumn {
    table: "buckets",
    column: "cors",
    cql_type: "text",
}];

/// The way from version N-1 to N: statements that are idempotent as
/// written (`IF NOT EXISTS`, `ALTER … WITH`), then columns to add, which
/// `add_column` makes idempotent.
struct Step {
    cql: &'static [&'static str],
    add: &'static [NewColumn],
}

/// Steps from version N-1 to N, indexed by N-1.
const MIGRATIONS: &[Step] = &[
    Step { cql: V1, add: &[] },
    Step { cql: V2, add: &[] },
    Step {
        cql: &[],
        add: V3_COLUMNS,
    },
    Step {
        cql: V4,
        add: V4_COLUMNS,
    },
    Step {
        cql: &[],
        add: V5_COLUMNS,
    },
    Step { cql: V6, add: &[] },
    Step {
        cql: V7,
        add: V7_COLUMNS,
    },
    Step {
        cql: &[],
        add: V8_COLUMNS,
    },
    Step {
        cql: &[],
        add: V9_COLUMNS,
    },
    Step {
        cql: &[],
        add: V10_COLUMNS,
    },
    Step {
        cql: &[],
        add: V11_COLUMNS,
    },
    Step {
        cql: V12,
        add: V12_COLUMNS,
    },
    Step {
        cql: &[],
        add: V13_COLUMNS,
    },
    Step {
        cql: &[],
        add: V14_COLUMNS,
    },
];

// One step per version.
const _: () = assert!(MIGRATIONS.len() == SCHEMA_VERSION as usize);

/// What the keyspace fixes for every gateway.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub index_shards: u16,
}

/// How long one schema statement may take. A node applies DDL in the
/// background of its other work and can take longer than a request's
/// timeout (10 s by default) under load; every statement here is
/// idempotent, so waiting longer risks nothing.
const DDL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

async fn run(session: &Session, ks: &str, cql: &str) -> Result<(), StorageError> {
    let mut statement = scylla::statement::Statement::new(cql.replace("{ks}", ks));
    statement.set_request_timeout(Some(DDL_TIMEOUT));
    session
        .query_unpaged(statement, &[])
        .await
        .map(|_| ())
        .map_err(exec_err)
}

async fn setting(session: &Session, ks: &str, name: &str) -> Result<Option<String>, StorageError> {
    let cql = format!("SELECT value FROM {ks}.settings WHERE name = ?");
    let rows = session
        .query_unpaged(cql, (name,))
        .await
        .map_err(exec_err)?
        .into_rows_result()
        .map_err(shape_err)?;
    let row = rows
        .maybe_first_row::<(Option<String>,)>()
        .map_err(shape_err)?;
    Ok(row.and_then(|(v,)| v))
}

/// The CQL type of `table.column` in keyspace `ks`, if the column exists.
async fn column_type(
    session: &Session,
    ks: &str,
    table: &str,
    column: &str,
) -> Result<Option<String>, StorageError> {
    // Unquoted names are stored lower-cased, and we never quote them.
    let rows = session
        .query_unpaged(
            "SELECT type FROM system_schema.columns \
             WHERE keyspace_name = ? AND table_name = ? AND column_name = ?",
            (ks.to_ascii_lowercase(), table, column),
        )
        .await
        .map_err(exec_err)?
        .into_rows_result()
        .map_err(shape_err)?;
    let row = rows
        .maybe_first_row::<(Option<String>,)>()
        .map_err(shape_err)?;
    Ok(row.and_then(|(t,)| t))
}

/// `ALTER TABLE … ADD`, made idempotent. Cassandra refuses to add a column
/// that exists, with an error whose wording differs between Cassandra and
/// ScyllaDB releases, so instead of matching that text we look the column
/// up in `system_schema.columns` first (a re-run of a half-applied step
/// finds it and skips the ALTER). If the ALTER fails anyway, another
/// gateway migrating at the same moment may have added the column between
/// our look and our ALTER: once the schema agrees we look again, and only
/// a column that is still absent leaves the error standing.
async fn add_column(session: &Session, ks: &str, c: &NewColumn) -> Result<(), StorageError> {
    let has = |found: String| {
        if found == c.cql_type {
            Ok(())
        } else {
            Err(StorageError::internal(format!(
                "{ks}.{}.{} has type {found}, not {}",
                c.table, c.column, c.cql_type
            )))
        }
    };
    if let Some(found) = column_type(session, ks, c.table, c.column).await? {
        return has(found);
    }
    let cql = format!(
        "ALTER TABLE {{ks}}.{} ADD {} {}",
        c.table, c.column, c.cql_type
    );
    let Err(e) = run(session, ks, &cql).await else {
        return Ok(());
    };
    session
        .await_schema_agreement()
        .await
        .map_err(|a| StorageError::Unavailable(format!("schema agreement: {a}")))?;
    match column_type(session, ks, c.table, c.column).await? {
        Some(found) => has(found),
        None => Err(e),
    }
}

/// Sets `name` unless it is set; returns the value that holds. Reads
/// first: gateways starting together would otherwise all run the same
/// lightweight transaction on one partition and time out on contention.
async fn setting_once(
    session: &Session,
    ks: &str,
    name: &str,
    value: &str,
) -> Result<String, StorageError> {
    if let Some(v) = setting(session, ks, name).await? {
        return Ok(v);
    }
    let cql = format!("INSERT INTO {ks}.settings (name, value) VALUES (?, ?) IF NOT EXISTS");
    let rows = session
        .query_unpaged(cql, (name, value))
        .await
        .map_err(exec_err)?
        .into_rows_result()
        .map_err(shape_err)?;
    let row: Row = rows.first_row().map_err(shape_err)?;
    if matches!(row.columns.first(), Some(Some(CqlValue::Boolean(true)))) {
        return Ok(value.to_owned());
    }
    setting(session, ks, name)
        .await?
        .ok_or_else(|| StorageError::Corrupt(format!("setting {name} vanished")))
}

/// Creates the keyspace and tables, or upgrades them, and returns the
/// layout every gateway of this keyspace shares.
pub(crate) async fn migrate(
    session: &Session,
    opts: &CassandraOptions,
) -> Result<Layout, StorageError> {
    let ks = &opts.keyspace;
    run(
        session,
        ks,
        &format!(
            "CREATE KEYSPACE IF NOT EXISTS {{ks}} WITH replication = {} AND durable_writes = true",
            opts.replication.cql()
        ),
    )
    .await?;
    run(session, ks, V1[0]).await?;
    let current: i32 = match setting(session, ks, "schema_version").await? {
        Some(v) => v
            .parse()
            .map_err(|_| StorageError::Corrupt(format!("schema_version {v:?}")))?,
        None => 0,
    };
    if current > SCHEMA_VERSION {
        return Err(StorageError::internal(format!(
            "keyspace {ks} has schema version {current}; this build knows up to {SCHEMA_VERSION}"
        )));
    }
    // Every step is idempotent, so re-running a half-applied one is safe.
    for (i, step) in MIGRATIONS.iter().enumerate() {
        let version = i as i32 + 1;
        if version <= current {
            continue;
        }
        for cql in step.cql {
            run(session, ks, cql).await?;
        }
        for column in step.add {
            add_column(session, ks, column).await?;
        }
        let cql = format!("INSERT INTO {ks}.settings (name, value) VALUES ('schema_version', ?)");
        session
            .query_unpaged(cql, (version.to_string(),))
            .await
            .map_err(exec_err)?;
        tracing::info!(keyspace = %ks, version, "schema migrated");
    }
    session
        .await_schema_agreement()
        .await
        .map_err(|e| StorageError::Unavailable(format!("schema agreement: {e}")))?;
    let shards = setting_once(session, ks, "index_shards", &opts.index_shards.to_string()).await?;
    let index_shards: u16 = shards
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| StorageError::Corrupt(format!("index_shards {shards:?}")))?;
    if index_shards != opts.index_shards {
        tracing::info!(
            keyspace = %ks,
            index_shards,
            "the keyspace keeps the index shard count it was created with"
        );
    }
    // The collector starts from the minute the keyspace was created.
    let now_minute = super::gc::minute(super::now_ms());
    setting_once(
        session,
        ks,
        super::gc::CURSOR,
        &(now_minute - 1).to_string(),
    )
    .await?;
    Ok(Layout { index_shards })
}
