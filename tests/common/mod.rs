//! Test harness: the real server in-process on 127.0.0.1:0, a temp data
//! directory, and AWS SDK clients (path-style and virtual-hosted).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::Client;
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns};
use s3gw::auth::SecretKey;
use s3gw::config::{Backend, Config};
use s3gw::storage::cassandra::{CassandraOptions, CassandraStorage};
use tokio::sync::oneshot;

pub const ACCESS_KEY: &str = "TESTACCESSKEY0000001";
pub const SECRET_KEY: &str = "test/secret/key/0123456789abcdefghijklmn";
pub const DOMAIN: &str = "s3.test";
/// The key-encryption key of every test gateway (they may share a
/// keyspace, so they share it).
pub const KEK: &str = "test-key-encryption-key-0123456789abcdef";

/// The root pair and the key-encryption key of test gateways.
pub fn credentials() -> s3gw::access::Credentials {
    s3gw::access::Credentials::root(ACCESS_KEY, SecretKey::new(SECRET_KEY.into()))
        .with_kek(KEK)
        .expect("kek")
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// The admin listener (the dashboard's origin).
    pub admin_addr: SocketAddr,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts a gateway with a small chunk size, so tests cross chunk
/// boundaries with small bodies.
pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config {
        data_dir: dir.path().join("data"),
        domain: Some(DOMAIN.into()),
        chunk_size: 64 * 1024,
        ..Config::default()
    };
    tweak(&mut config);
    start_in(dir, config).await
}

/// The backend under test: embedded, unless `S3GW_TEST_BACKEND=cassandra`
/// (then on the keyspace of `cassandra_options`).
pub fn backend_under_test() -> Backend {
    match std::env::var("S3GW_TEST_BACKEND").as_deref() {
        Ok("cassandra") => match cassandra_options(std::time::Duration::from_secs(900)) {
            Some(o) => Backend::Cassandra(Box::new(o)),
            None => panic!("S3GW_TEST_BACKEND=cassandra needs S3GW_TEST_CASSANDRA=host:port"),
        },
        _ => Backend::Embedded,
    }
}

/// Options for the test keyspace (`S3GW_TEST_KEYSPACE`, default
/// `s3gw_test`) at `S3GW_TEST_CASSANDRA`. `None` when that is unset, so
/// Cassandra tests skip with a message, unless `S3GW_REQUIRE_CASSANDRA=1`,
/// which makes a missing Cassandra a failure (the README's test command
/// sets it).
pub fn cassandra_options(gc_grace: std::time::Duration) -> Option<CassandraOptions> {
    let Some(contact) = std::env::var("S3GW_TEST_CASSANDRA")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        if std::env::var("S3GW_REQUIRE_CASSANDRA").as_deref() == Ok("1") {
            panic!("S3GW_REQUIRE_CASSANDRA=1 but S3GW_TEST_CASSANDRA is not set");
        }
        eprintln!("skipped: set S3GW_TEST_CASSANDRA=host:port to run the Cassandra tests");
        return None;
    };
    let keyspace = std::env::var("S3GW_TEST_KEYSPACE").unwrap_or_else(|_| "s3gw_test".into());
    let mut o = CassandraOptions::local(&contact, &keyspace)
        .with_security_from_env()
        .expect("S3GW_CASSANDRA_* credentials and TLS files");
    o.gc_grace = gc_grace;
    Some(o)
}

static MIGRATED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Opens the test keyspace; the first caller in the process creates the
/// schema, so that parallel tests never race on the same DDL.
pub async fn open_cassandra(o: CassandraOptions) -> CassandraStorage {
    MIGRATED
        .get_or_init(|| async {
            CassandraStorage::migrate(&o).await.expect("migrate");
        })
        .await;
    CassandraStorage::open(o).await.expect("open cassandra")
}

/// A CQL session of the test's own (with the credentials and TLS of the
/// environment, as the store's), for tests that read or write rows directly.
pub async fn cql_session(contact_point: &str) -> scylla::client::session::Session {
    let o = CassandraOptions::local(contact_point, "system")
        .with_security_from_env()
        .expect("S3GW_CASSANDRA_* credentials and TLS files");
    s3gw::storage::cassandra::open_session(&o)
        .await
        .expect("session")
}

/// Drops a keyspace a test made for itself. A schema change on a busy
/// single node can outlast the driver's 10 s request timeout (CI once saw
/// `RequestTimeout(10s)` here), so each try waits up to 60 s, and a failed
/// try is repeated: `IF EXISTS` makes a repeat after a drop that did
/// complete harmless. A keyspace still there after three tries is
/// left on the throwaway node with a warning, since clean-up is not what a
/// test checks.
pub async fn drop_keyspace(contact_point: &str, keyspace: &str) {
    let session = cql_session(contact_point).await;
    let mut drop = scylla::statement::Statement::new(format!("DROP KEYSPACE IF EXISTS {keyspace}"));
    drop.set_request_timeout(Some(std::time::Duration::from_secs(60)));
    for attempt in 1..=3 {
        match session.query_unpaged(drop.clone(), &[]).await {
            Ok(_) => return,
            Err(e) => eprintln!("drop keyspace {keyspace}, try {attempt} of 3: {e}"),
        }
    }
    eprintln!("warning: keyspace {keyspace} left on the test node");
}

pub async fn start_in(dir: tempfile::TempDir, mut config: Config) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind admin");
    let admin_addr = admin.local_addr().expect("admin addr");
    if matches!(config.backend, Backend::Embedded) {
        config.backend = backend_under_test();
    }
    let state = match config.backend.clone() {
        Backend::Embedded => s3gw::server::embedded_state(config, credentials()).expect("state"),
        Backend::Cassandra(o) => {
            let store = open_cassandra(*o).await;
            s3gw::server::state_with(config, std::sync::Arc::new(store), credentials())
        }
    };
    s3gw::server::load_keys(&state).await;
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(s3gw::server::serve_with_admin(
        listener,
        Some(admin),
        state,
        async {
            let _ = rx.await;
        },
    ));
    TestServer {
        addr,
        admin_addr,
        dir,
        stop: Some(tx),
        task: Some(task),
    }
}

impl TestServer {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn config(&self, endpoint: String, path_style: bool) -> aws_sdk_s3::config::Builder {
        let resolver = Loopback;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_with_resolver(resolver);
        aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test"))
            .endpoint_url(endpoint)
            .force_path_style(path_style)
            .http_client(http)
    }

    /// Path-style client with the SDK's default checksum behaviour.
    pub fn client(&self) -> Client {
        Client::from_conf(self.config(self.endpoint(), true).build())
    }

    /// Virtual-hosted-style client: requests go to `<bucket>.s3.test:port`.
    pub fn vhost_client(&self) -> Client {
        let endpoint = format!("http://{DOMAIN}:{}", self.addr.port());
        Client::from_conf(self.config(endpoint, false).build())
    }

    /// A path-style client that signs for `region`.
    pub fn client_in_region(&self, region: &'static str) -> Client {
        let conf = self
            .config(self.endpoint(), true)
            .region(Region::new(region))
            .build();
        Client::from_conf(conf)
    }

    /// A client with the given secret (for negative auth tests).
    pub fn client_with_secret(&self, access: &str, secret: &str) -> Client {
        let conf = self
            .config(self.endpoint(), true)
            .credentials_provider(Credentials::new(access, secret, None, None, "test"))
            .build();
        Client::from_conf(conf)
    }

    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Resolves every name to 127.0.0.1, so `<bucket>.s3.test` reaches us.
#[derive(Debug, Clone)]
struct Loopback;

impl ResolveDns for Loopback {
    fn resolve_dns<'a>(&'a self, _name: &'a str) -> DnsFuture<'a> {
        DnsFuture::ready(Ok(vec!["127.0.0.1".parse().expect("ip")]))
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A bucket name unique within this test process.
pub fn bucket_name(tag: &str) -> String {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    // Unique across runs too: a Cassandra keyspace outlives the process.
    let run = RUN.get_or_init(|| {
        let r = uuid::Uuid::new_v4().simple().to_string();
        format!("{}{}", std::process::id(), &r[..6])
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{tag}-{run}-{n}")
}

/// Deterministic pseudo-random bytes.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The value of header `name` in the head of a raw answer
/// ([`raw_request`]'s head text), its status line skipped.
pub fn header_in<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Sends raw bytes and returns (status, head text, body) of the reply.
pub async fn raw_request(addr: SocketAddr, request: &[u8]) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.as_bytes().to_vec())
}

/// The S3 error code of an SDK service error ("" if none).
pub fn code<E: aws_sdk_s3::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("").to_owned()
}

/// The S3 error code and message of an SDK service error.
pub fn code_and_message<E: aws_sdk_s3::error::ProvideErrorMetadata>(e: &E) -> (String, String) {
    (code(e), e.message().unwrap_or("").to_owned())
}

/// The real `s3gw` binary on a free port: its process and endpoint. Its
/// stdout is drained so the banner never writes into a closed pipe.
pub fn spawn_gateway(data_dir: &std::path::Path, extra: &[&str]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_s3gw"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .arg("--data-dir")
        .arg(data_dir)
        .env("S3GW_ROOT_ACCESS_KEY", ACCESS_KEY)
        .env("S3GW_ROOT_SECRET_KEY", SECRET_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn s3gw");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("banner");
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let endpoint = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no endpoint in {line:?}"))
        .to_owned();
    (child, endpoint)
}

/// A path-style SDK client for `endpoint`, with the default HTTP client.
pub fn client_for(endpoint: &str) -> Client {
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    Client::from_conf(conf)
}

/// The owner of a blob that a test writes straight through the `Storage`
/// trait. A Cassandra store sweeps a pending blob only after its commit
/// deadline (hours by default), which these tests never reach.
pub fn test_owner() -> s3gw::storage::BlobOwner {
    s3gw::storage::BlobOwner::Object {
        bucket: s3gw::storage::BucketId(uuid::Uuid::nil()),
        key: "written-by-a-test".into(),
    }
}

/// Options for a keyspace of the test's own (so counts cover the whole
/// store), or `None` when the Cassandra tests are skipped.
pub fn own_keyspace(tag: &str, gc_grace: std::time::Duration) -> Option<CassandraOptions> {
    let mut o = cassandra_options(gc_grace)?;
    o.keyspace = format!(
        "s3gw_test_{tag}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    Some(o)
}

/// Writes chunks `indexes` of a blob of `size` bytes filled with `fill`,
/// announced for `owner`, in chunks of `chunk` bytes (indexes past the
/// end are skipped). Returns the blob's record as a part of a head.
pub async fn stored_blob(
    s: &dyn s3gw::storage::Storage,
    owner: &s3gw::storage::BlobOwner,
    fill: u8,
    size: usize,
    chunk: u32,
    indexes: impl Iterator<Item = u32>,
) -> s3gw::storage::PartRef {
    use s3gw::storage::{BlobId, ChunkAddr, PartRef};
    let id = BlobId::new();
    s.begin_blob(id, owner).await.expect("begin");
    let data = vec![fill; size];
    let chunks: Vec<&[u8]> = data.chunks(chunk as usize).collect();
    for i in indexes {
        let Some(bytes) = chunks.get(i as usize) else {
            continue;
        };
        let addr = ChunkAddr {
            blob: id,
            index: i,
            chunk_size: chunk,
        };
        let bytes = bytes::Bytes::copy_from_slice(bytes);
        s.put_chunk(addr, bytes).await.expect("chunk");
    }
    s.seal_blob(id).await.expect("seal");
    PartRef {
        blob: id,
        size: size as u64,
        etag: format!("{fill:02x}"),
        checksum: None,
        chunk_size: Some(chunk),
    }
}

/// A single-part head over `part`.
pub fn head_of(part: s3gw::storage::PartRef, chunk: u32) -> s3gw::storage::ObjectHead {
    s3gw::storage::ObjectHead {
        size: part.size,
        etag: part.etag.clone(),
        last_modified_ms: 0,
        chunk_size: chunk,
        parts: vec![part],
        multipart: false,
        upload_id: None,
        checksum: None,
        content: Default::default(),
        user_meta: Default::default(),
        tags: Default::default(),
        inline: None,
        version_id: None,
        version_us: 0,
        delete_marker: false,
    }
}

/// The head of an inline object holding `data`.
pub fn inline_head(data: &[u8], etag: &str) -> s3gw::storage::ObjectHead {
    let bytes = bytes::Bytes::copy_from_slice(data);
    s3gw::storage::ObjectHead {
        size: data.len() as u64,
        etag: etag.into(),
        last_modified_ms: 0,
        chunk_size: 1024,
        parts: vec![],
        multipart: false,
        upload_id: None,
        checksum: None,
        content: Default::default(),
        user_meta: Default::default(),
        tags: Default::default(),
        inline: Some(s3gw::storage::InlineData::of(bytes)),
        version_id: None,
        version_us: 0,
        delete_marker: false,
    }
}

/// A bucket record created in `s`.
pub async fn new_bucket(s: &dyn s3gw::storage::Storage, tag: &str) -> s3gw::storage::BucketRecord {
    let b = s3gw::storage::BucketRecord::new(&bucket_name(tag), "us-east-1", "");
    s.create_bucket(&b).await.expect("create bucket");
    b
}

/// A gateway process that is killed (SIGKILL) and reaped when dropped, so
/// a failing test leaves nothing running.
pub struct KillOnDrop(pub std::process::Child);

impl KillOnDrop {
    /// kill -9 and reap, now.
    pub fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `key` as the storage contract takes it (a test's keys are valid).
pub fn key(key: &str) -> s3gw::types::ObjectKey {
    s3gw::types::ObjectKey::parse(key).expect("a valid key")
}

/// `id` as the storage contract takes it (a test's ids have the form the
/// gateway hands out).
pub fn upload_id(id: &str) -> s3gw::types::UploadId {
    s3gw::types::UploadId::parse(id).expect("a valid upload id")
}

/// A new upload record for `key`, initiated now.
pub fn upload_record(key: &str) -> s3gw::storage::UploadRecord {
    s3gw::storage::UploadRecord {
        upload_id: s3gw::types::UploadId::generate().to_string(),
        key: key.into(),
        initiated_ms: s3gw::storage::now_ms(),
        content: Default::default(),
        user_meta: Default::default(),
        tags: Default::default(),
        checksum_algorithm: None,
        checksum_type: None,
    }
}

/// Part `number` of an upload, uploaded now.
pub fn part_record(number: u32, data: s3gw::storage::PartRef) -> s3gw::storage::PartRecord {
    s3gw::storage::PartRecord {
        part_number: number,
        last_modified_ms: s3gw::storage::now_ms(),
        data,
    }
}

/// The head a Complete of `parts` would write, modified now.
pub fn multipart_head(
    upload_id: &str,
    parts: Vec<s3gw::storage::PartRef>,
    chunk: u32,
    etag: &str,
) -> s3gw::storage::ObjectHead {
    s3gw::storage::ObjectHead {
        size: parts.iter().map(|p| p.size).sum(),
        etag: etag.into(),
        last_modified_ms: s3gw::storage::now_ms(),
        chunk_size: chunk,
        parts,
        multipart: true,
        upload_id: Some(upload_id.into()),
        checksum: None,
        content: Default::default(),
        user_meta: Default::default(),
        tags: Default::default(),
        inline: None,
        version_id: None,
        version_us: 0,
        delete_marker: false,
    }
}

/// A request signed with SigV4 header auth by s3gw's own pure functions,
/// sent as raw bytes, for what no SDK sends: headers left out of the
/// signature, another region, a hand-written canonical query.
pub struct RawSigned<'a> {
    pub method: &'a str,
    /// The path as sent (already percent-encoded).
    pub path: &'a str,
    /// The query as sent, without `?`.
    pub query: &'a str,
    /// Headers besides host, x-amz-date and x-amz-content-sha256, signed.
    pub signed: Vec<(&'a str, String)>,
    /// Headers sent but left out of SignedHeaders.
    pub unsigned: Vec<(&'a str, String)>,
    pub body: &'a [u8],
    pub region: &'a str,
    /// The canonical query to sign; `None`: s3gw's `canonical_query(query)`.
    pub canonical_query: Option<String>,
    /// `x-amz-content-sha256`; `None` omits it; default: the body's SHA-256.
    pub content_sha256: Option<String>,
}

impl<'a> RawSigned<'a> {
    pub fn new(method: &'a str, path: &'a str) -> Self {
        RawSigned {
            method,
            path,
            query: "",
            signed: Vec::new(),
            unsigned: Vec::new(),
            body: b"",
            region: "us-east-1",
            canonical_query: None,
            content_sha256: Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b""))),
        }
    }

    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self.content_sha256 = Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body)));
        self
    }

    /// The request's bytes, for the gateway at `addr`.
    pub fn build(&self, addr: SocketAddr) -> Vec<u8> {
        use s3gw::auth::sigv4::{
            canonical_query, canonical_request, format_amz_date, scope, sign, signing_key,
            string_to_sign, UNSIGNED_PAYLOAD,
        };
        let amz_date = format_amz_date(time::OffsetDateTime::now_utc());
        let day = &amz_date[..8];
        let mut signed: Vec<(String, String)> = vec![
            ("host".into(), addr.to_string()),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        if let Some(sha) = &self.content_sha256 {
            signed.push(("x-amz-content-sha256".into(), sha.clone()));
        }
        signed.extend(self.signed.iter().map(|(k, v)| (k.to_string(), v.clone())));
        signed.sort();
        let names = signed
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let query = self
            .canonical_query
            .clone()
            .unwrap_or_else(|| canonical_query(self.query));
        let payload = self.content_sha256.as_deref().unwrap_or(UNSIGNED_PAYLOAD);
        let creq = canonical_request(
            self.method,
            self.path,
            &query,
            &canonical_headers,
            &names,
            payload,
        );
        let key = signing_key(&SecretKey::new(SECRET_KEY.into()), day, self.region);
        let signature = sign(
            &key,
            &string_to_sign(&amz_date, &scope(day, self.region), &creq),
        );
        let target = match self.query {
            "" => self.path.to_string(),
            q => format!("{}?{q}", self.path),
        };
        let mut out = format!("{} {target} HTTP/1.1\r\n", self.method);
        for (k, v) in signed.iter().chain(
            self.unsigned
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Vec<_>>()
                .iter(),
        ) {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!(
            "authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{day}/{}/s3/aws4_request, \
             SignedHeaders={names}, Signature={signature}\r\n",
            self.region
        ));
        out.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(self.body);
        bytes
    }
}

/// Creates a bucket named after `tag` and returns its name.
pub async fn create_bucket(c: &Client, tag: &str) -> String {
    let b = bucket_name(tag);
    c.create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("create bucket");
    b
}

/// Puts `body` at `bucket/key`.
pub async fn put(c: &Client, bucket: &str, key: &str, body: &'static [u8]) {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(body))
        .send()
        .await
        .expect("put");
}

/// Whether `bucket/key` exists.
pub async fn exists(c: &Client, bucket: &str, key: &str) -> bool {
    c.head_object().bucket(bucket).key(key).send().await.is_ok()
}

/// The path and query of a presigned request, as a raw request line takes it.
pub fn path_and_query(req: &aws_sdk_s3::presigning::PresignedRequest) -> String {
    let uri: http::Uri = req.uri().parse().expect("presigned uri");
    uri.path_and_query()
        .expect("path and query")
        .as_str()
        .to_owned()
}

/// The bytes of `bucket/key`.
pub async fn get_bytes(c: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("get");
    out.body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}

/// The HTTP status of a failed SDK call (`None` if no answer arrived).
pub fn status_of<E>(e: &aws_sdk_s3::error::SdkError<E>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// The S3 error code of a call that must fail (`what` names it if it did not).
pub fn refused<T: std::fmt::Debug, E: aws_sdk_s3::error::ProvideErrorMetadata>(
    answer: Result<T, E>,
    what: &str,
) -> String {
    code(&answer.expect_err(what))
}

/// PutBucketVersioning of `status` on `bucket`; it must succeed.
pub async fn set_versioning(
    c: &Client,
    bucket: &str,
    status: aws_sdk_s3::types::BucketVersioningStatus,
) {
    let config = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(status)
        .build();
    c.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(config)
        .send()
        .await
        .expect("put versioning");
}

/// Checks that HeadObject of `bucket/key` answers 404.
pub async fn assert_absent(c: &Client, bucket: &str, key: &str) {
    let e = c.head_object().bucket(bucket).key(key).send().await;
    let e = e.expect_err("nothing stored");
    assert!(e.into_service_error().is_not_found(), "{key} exists");
}

/// A gateway (`start_with`), its path-style client and a fresh bucket:
/// where most SDK tests begin.
pub struct Fixture {
    pub srv: TestServer,
    pub c: Client,
    pub b: String,
}

impl Fixture {
    pub async fn new(tag: &str) -> Fixture {
        Fixture::with(tag, |_| {}).await
    }

    pub async fn with(tag: &str, tweak: impl FnOnce(&mut Config)) -> Fixture {
        let srv = start_with(tweak).await;
        let c = srv.client();
        let b = create_bucket(&c, tag).await;
        Fixture { srv, c, b }
    }

    /// PutObject of `body` at `key` in the bucket; it must succeed.
    pub async fn put(
        &self,
        key: &str,
        body: impl Into<aws_sdk_s3::primitives::ByteStream>,
    ) -> aws_sdk_s3::operation::put_object::PutObjectOutput {
        self.c
            .put_object()
            .bucket(&self.b)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e:?}"))
    }

    /// The bytes of `key` in the bucket.
    pub async fn get(&self, key: &str) -> Vec<u8> {
        get_bytes(&self.c, &self.b, key).await
    }

    /// HeadObject of `key` in the bucket; it must succeed.
    pub async fn head(&self, key: &str) -> aws_sdk_s3::operation::head_object::HeadObjectOutput {
        self.c
            .head_object()
            .bucket(&self.b)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("head {key}: {e:?}"))
    }
}

/// An embedded store in a temp directory (kept while the directory lives),
/// with the 900 s GC grace the gateway has by default.
pub fn embedded_store() -> (
    tempfile::TempDir,
    std::sync::Arc<dyn s3gw::storage::Storage>,
) {
    let dir = tempfile::tempdir().expect("tmp");
    let s = s3gw::storage::embedded::EmbeddedStorage::open(
        &dir.path().join("data"),
        std::time::Duration::from_secs(900),
    )
    .expect("open");
    (dir, std::sync::Arc::new(s))
}
