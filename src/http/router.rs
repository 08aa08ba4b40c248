//! A pure function from (method, URI, Host) to the S3 operation, the bucket
//! and the key, or to one of the gateway's own paths under `/_s3gw/`. It
//! owns every path either listener answers. No I/O: it is tested with
//! tables. The operation's typed parameters are parsed after
//! authentication (`s3::input`), so an unsigned request learns nothing
//! but that it is refused.

use http::Method;
use percent_encoding::percent_decode_str;

use super::query::Query;

/// Bucket sub-resources answered with a fixed "not configured" reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketConfig {
    Accelerate,
    Acl,
    Encryption,
    Logging,
    Notification,
    ObjectLock,
    OwnershipControls,
    PublicAccessBlock,
    Replication,
    RequestPayment,
    Website,
    /// A listing of configurations of a kind s3gw never has (no `id`).
    List(ConfigSet),
    /// One configuration of such a kind, by its `id`.
    One(ConfigSet),
}

/// Kinds of bucket configuration that S3 lists by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSet {
    Analytics,
    IntelligentTiering,
    Inventory,
    Metrics,
}

impl ConfigSet {
    /// The middle of its operations' names.
    fn op(self) -> &'static str {
        match self {
            ConfigSet::Analytics => "BucketAnalyticsConfiguration",
            ConfigSet::IntelligentTiering => "BucketIntelligentTieringConfiguration",
            ConfigSet::Inventory => "BucketInventoryConfiguration",
            ConfigSet::Metrics => "BucketMetricsConfiguration",
        }
    }

    fn of(subresource: &str) -> Option<ConfigSet> {
        match subresource {
            "analytics" => Some(ConfigSet::Analytics),
            "intelligent-tiering" => Some(ConfigSet::IntelligentTiering),
            "inventory" => Some(ConfigSet::Inventory),
            "metrics" => Some(ConfigSet::Metrics),
            _ => None,
        }
    }
}

/// Every S3 operation the gateway knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    ListBuckets,
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    GetBucketVersioning,
    PutBucketVersioning,
    GetBucketConfig(BucketConfig),
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    GetBucketPolicyStatus,
    GetBucketTagging,
    PutBucketTagging,
    DeleteBucketTagging,
    GetBucketLifecycleConfiguration,
    PutBucketLifecycleConfiguration,
    DeleteBucketLifecycle,
    GetBucketCors,
    PutBucketCors,
    DeleteBucketCors,
    /// A browser's CORS preflight (`OPTIONS` on a bucket or an object),
    /// answered from the bucket's CORS rules without authentication.
    CorsPreflight,
    ListObjects,
    ListObjectsV2,
    ListObjectVersions,
    DeleteObjects,
    ListMultipartUploads,
    GetObject,
    HeadObject,
    PutObject,
    /// A browser form upload (`POST /bucket`, `multipart/form-data`).
    PostObject,
    CopyObject,
    DeleteObject,
    GetObjectTagging,
    PutObjectTagging,
    DeleteObjectTagging,
    GetObjectAcl,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    /// Known to S3 but not served; the name is the S3 operation.
    NotImplemented(String),
}

impl Endpoint {
    /// The S3 operation name, for logs and metrics.
    pub fn name(&self) -> &str {
        use Endpoint::*;
        match self {
            ListBuckets => "ListBuckets",
            CreateBucket => "CreateBucket",
            DeleteBucket => "DeleteBucket",
            HeadBucket => "HeadBucket",
            GetBucketLocation => "GetBucketLocation",
            GetBucketVersioning => "GetBucketVersioning",
            PutBucketVersioning => "PutBucketVersioning",
            GetBucketConfig(c) => match c {
                BucketConfig::Accelerate => "GetBucketAccelerateConfiguration",
                BucketConfig::Acl => "GetBucketAcl",
                BucketConfig::Encryption => "GetBucketEncryption",
                BucketConfig::Logging => "GetBucketLogging",
                BucketConfig::Notification => "GetBucketNotificationConfiguration",
                BucketConfig::ObjectLock => "GetObjectLockConfiguration",
                BucketConfig::OwnershipControls => "GetBucketOwnershipControls",
                BucketConfig::PublicAccessBlock => "GetPublicAccessBlock",
                BucketConfig::Replication => "GetBucketReplication",
                BucketConfig::RequestPayment => "GetBucketRequestPayment",
                BucketConfig::Website => "GetBucketWebsite",
                BucketConfig::List(ConfigSet::Analytics) => "ListBucketAnalyticsConfigurations",
                BucketConfig::List(ConfigSet::IntelligentTiering) => {
                    "ListBucketIntelligentTieringConfigurations"
                }
                BucketConfig::List(ConfigSet::Inventory) => "ListBucketInventoryConfigurations",
                BucketConfig::List(ConfigSet::Metrics) => "ListBucketMetricsConfigurations",
                BucketConfig::One(ConfigSet::Analytics) => "GetBucketAnalyticsConfiguration",
                BucketConfig::One(ConfigSet::IntelligentTiering) => {
                    "GetBucketIntelligentTieringConfiguration"
                }
                BucketConfig::One(ConfigSet::Inventory) => "GetBucketInventoryConfiguration",
                BucketConfig::One(ConfigSet::Metrics) => "GetBucketMetricsConfiguration",
            },
            GetBucketPolicy => "GetBucketPolicy",
            PutBucketPolicy => "PutBucketPolicy",
            DeleteBucketPolicy => "DeleteBucketPolicy",
            GetBucketPolicyStatus => "GetBucketPolicyStatus",
            GetBucketTagging => "GetBucketTagging",
            PutBucketTagging => "PutBucketTagging",
            DeleteBucketTagging => "DeleteBucketTagging",
            GetBucketLifecycleConfiguration => "GetBucketLifecycleConfiguration",
            PutBucketLifecycleConfiguration => "PutBucketLifecycleConfiguration",
            DeleteBucketLifecycle => "DeleteBucketLifecycle",
            GetBucketCors => "GetBucketCors",
            PutBucketCors => "PutBucketCors",
            DeleteBucketCors => "DeleteBucketCors",
            CorsPreflight => "CorsPreflight",
            ListObjects => "ListObjects",
            ListObjectsV2 => "ListObjectsV2",
            ListObjectVersions => "ListObjectVersions",
            DeleteObjects => "DeleteObjects",
            ListMultipartUploads => "ListMultipartUploads",
            GetObject => "GetObject",
            HeadObject => "HeadObject",
            PutObject => "PutObject",
            PostObject => "PostObject",
            CopyObject => "CopyObject",
            DeleteObject => "DeleteObject",
            GetObjectTagging => "GetObjectTagging",
            PutObjectTagging => "PutObjectTagging",
            DeleteObjectTagging => "DeleteObjectTagging",
            GetObjectAcl => "GetObjectAcl",
            CreateMultipartUpload => "CreateMultipartUpload",
            UploadPart => "UploadPart",
            UploadPartCopy => "UploadPartCopy",
            CompleteMultipartUpload => "CompleteMultipartUpload",
            AbortMultipartUpload => "AbortMultipartUpload",
            ListParts => "ListParts",
            NotImplemented(name) => name,
        }
    }

    /// Whether the request body may be an aws-chunked upload stream.
    pub fn takes_streaming_body(&self) -> bool {
        matches!(self, Endpoint::PutObject | Endpoint::UploadPart)
    }
}

/// The gateway's own paths, under [`RESERVED_PREFIX`] (never a path-style
/// bucket: a bucket name cannot start with `_`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayPath {
    Health,
    Ready,
    Metrics,
    /// `/_s3gw/dashboard` without its slash: redirected to [`DASHBOARD_DIR`].
    Dashboard,
    /// A file of the dashboard page; the empty name is its index.
    Asset(String),
    ClusterApi,
    /// The access keys and grants, read-only, for the dashboard.
    AccessApi,
    Login,
    Logout,
    /// The admin API (`crate::admin_api`), SigV4-signed by an admin key.
    Admin(AdminPath),
    /// Any other path under the prefix.
    Unknown,
}

/// A resource of the admin API, under [`ADMIN_API_PREFIX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminPath {
    /// `keys`
    Keys,
    /// `keys/{access key id}`
    Key(String),
    /// `buckets/{bucket}`
    Bucket(String),
    /// `buckets/{bucket}/allow`
    Allow(String),
    /// `buckets/{bucket}/deny`
    Deny(String),
}

impl AdminPath {
    /// The resource `rest` (the path after [`ADMIN_API_PREFIX`]) names.
    fn parse(rest: &str) -> Option<AdminPath> {
        let segments: Vec<&str> = rest.split('/').collect();
        let name = |s: &str| {
            (!s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)))
            .then(|| s.to_owned())
        };
        Some(match segments.as_slice() {
            ["keys"] => AdminPath::Keys,
            ["keys", id] => AdminPath::Key(name(id)?),
            ["buckets", b] => AdminPath::Bucket(name(b)?),
            ["buckets", b, "allow"] => AdminPath::Allow(name(b)?),
            ["buckets", b, "deny"] => AdminPath::Deny(name(b)?),
            _ => return None,
        })
    }
}

impl GatewayPath {
    /// The gateway path `path` names, `None` when it is not under
    /// [`RESERVED_PREFIX`].
    pub fn parse(path: &str) -> Option<GatewayPath> {
        if !path.starts_with(RESERVED_PREFIX) {
            return None;
        }
        Some(match path {
            HEALTH_PATH => GatewayPath::Health,
            READY_PATH => GatewayPath::Ready,
            METRICS_PATH => GatewayPath::Metrics,
            API_PATH => GatewayPath::ClusterApi,
            ACCESS_API_PATH => GatewayPath::AccessApi,
            LOGIN_PATH => GatewayPath::Login,
            LOGOUT_PATH => GatewayPath::Logout,
            "/_s3gw/dashboard" => GatewayPath::Dashboard,
            p => match (
                p.strip_prefix(DASHBOARD_DIR),
                p.strip_prefix(ADMIN_API_PREFIX),
            ) {
                (Some(name), _) => GatewayPath::Asset(name.to_owned()),
                (_, Some(rest)) => {
                    AdminPath::parse(rest).map_or(GatewayPath::Unknown, GatewayPath::Admin)
                }
                _ => GatewayPath::Unknown,
            },
        })
    }

    /// The operation name in logs and metrics (the probes by name, the
    /// rest as `Admin`, as before the paths had types).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            GatewayPath::Health => "Health",
            GatewayPath::Ready => "Ready",
            GatewayPath::Admin(_) => "AdminApi",
            _ => "Admin",
        }
    }
}

/// What a request on the S3 listener addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// One of the gateway's own paths: answered without S3 authentication.
    Gateway(GatewayPath),
    S3(Route),
}

/// The routed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub endpoint: Endpoint,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub query: Query,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// The path or query is not valid percent-encoded UTF-8.
    InvalidUri,
    MethodNotAllowed,
}

/// Path of the health check: underscores cannot start a bucket name, so it
/// never collides with path-style bucket requests.
pub const HEALTH_PATH: &str = "/_s3gw/health";
/// Path of the readiness check: 200 only while the backend answers.
pub const READY_PATH: &str = "/_s3gw/ready";
/// Every path under it is the gateway's own (`crate::dashboard`).
pub const RESERVED_PREFIX: &str = "/_s3gw/";
/// Prometheus metrics, on both listeners.
pub(crate) const METRICS_PATH: &str = "/_s3gw/metrics";
/// The dashboard page's files, on the admin listener.
pub(crate) const DASHBOARD_DIR: &str = "/_s3gw/dashboard/";
/// The cluster status the page polls, on the admin listener.
pub(crate) const API_PATH: &str = "/_s3gw/api/cluster";
/// The access keys and grants the page shows, on the admin listener.
pub(crate) const ACCESS_API_PATH: &str = "/_s3gw/api/access";
/// The admin API (`crate::admin_api`), on the S3 listener.
pub(crate) const ADMIN_API_PREFIX: &str = "/_s3gw/admin/v1/";
/// The dashboard's login and logout, on the admin listener.
pub(crate) const LOGIN_PATH: &str = "/_s3gw/login";
pub(crate) const LOGOUT_PATH: &str = "/_s3gw/logout";

/// Bucket sub-resources and the S3 name (without the verb) of each.
const BUCKET_SUBRESOURCES: &[(&str, &str, Option<BucketConfig>)] = &[
    (
        "accelerate",
        "BucketAccelerateConfiguration",
        Some(BucketConfig::Accelerate),
    ),
    ("acl", "BucketAcl", Some(BucketConfig::Acl)),
    ("analytics", "BucketAnalyticsConfiguration", None),
    (
        "encryption",
        "BucketEncryption",
        Some(BucketConfig::Encryption),
    ),
    (
        "intelligent-tiering",
        "BucketIntelligentTieringConfiguration",
        None,
    ),
    ("inventory", "BucketInventoryConfiguration", None),
    ("logging", "BucketLogging", Some(BucketConfig::Logging)),
    ("metrics", "BucketMetricsConfiguration", None),
    (
        "notification",
        "BucketNotificationConfiguration",
        Some(BucketConfig::Notification),
    ),
    (
        "object-lock",
        "ObjectLockConfiguration",
        Some(BucketConfig::ObjectLock),
    ),
    (
        "ownershipControls",
        "BucketOwnershipControls",
        Some(BucketConfig::OwnershipControls),
    ),
    ("policy", "BucketPolicy", None),
    ("policyStatus", "BucketPolicyStatus", None),
    (
        "publicAccessBlock",
        "PublicAccessBlock",
        Some(BucketConfig::PublicAccessBlock),
    ),
    (
        "replication",
        "BucketReplication",
        Some(BucketConfig::Replication),
    ),
    (
        "requestPayment",
        "BucketRequestPayment",
        Some(BucketConfig::RequestPayment),
    ),
    ("tagging", "BucketTagging", None),
    ("versioning", "BucketVersioning", None),
    ("website", "BucketWebsite", Some(BucketConfig::Website)),
];

/// Object sub-resources that are not served.
const OBJECT_SUBRESOURCES: &[(&str, &str)] = &[
    ("acl", "ObjectAcl"),
    ("attributes", "ObjectAttributes"),
    ("legal-hold", "ObjectLegalHold"),
    ("restore", "RestoreObject"),
    ("retention", "ObjectRetention"),
    ("select", "SelectObjectContent"),
    ("tagging", "ObjectTagging"),
    ("torrent", "ObjectTorrent"),
];

fn verb(method: &Method) -> &'static str {
    match *method {
        Method::GET => "Get",
        Method::PUT => "Put",
        Method::DELETE => "Delete",
        Method::POST => "Post",
        _ => "",
    }
}

/// Host without port, lower-cased.
/// The bucket a virtual-hosted request names in its Host
/// (`<bucket>.<domain>`), before any decoding; `None` for path style.
pub fn virtual_host_bucket(host: Option<&str>, domain: Option<&str>) -> Option<String> {
    let (d, h) = (domain?, host?);
    let h = host_name(h);
    let d = d.to_ascii_lowercase();
    h.strip_suffix(&d)
        .and_then(|b| b.strip_suffix('.'))
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
}

fn host_name(host: &str) -> String {
    let h = if host.starts_with('[') {
        host.split_once(']')
            .map_or(host, |(h, _)| h)
            .trim_start_matches('[')
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    h.to_ascii_lowercase()
}

/// The percent-decoded path; a `%` that starts no escape (`%zz`, `%4`) is
/// refused rather than kept, so `a%zzb` and `a%25zzb` cannot name one key.
fn decode_path(s: &str) -> Result<String, RouteError> {
    let bytes = s.as_bytes();
    let bad_escape = bytes.iter().enumerate().any(|(i, b)| {
        *b == b'%'
            && !bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if bad_escape {
        return Err(RouteError::InvalidUri);
    }
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| RouteError::InvalidUri)
}

impl Route {
    /// Routes a request whose query string was decoded into `query` (the
    /// same values the signature covers). `domain` enables
    /// virtual-hosted-style addressing for hosts `<bucket>.<domain>`.
    pub fn from_request(
        method: &Method,
        path: &str,
        query: Query,
        host: Option<&str>,
        copy_source: bool,
        domain: Option<&str>,
    ) -> Result<Routed, RouteError> {
        let vhost_bucket = virtual_host_bucket(host, domain);
        if vhost_bucket.is_none() {
            if let Some(gateway) = GatewayPath::parse(path) {
                return Ok(Routed::Gateway(gateway));
            }
        }
        let rest = path.strip_prefix('/').unwrap_or(path);
        let (bucket, key) = match vhost_bucket {
            Some(b) => (Some(b), (!rest.is_empty()).then(|| rest.to_owned())),
            None => match rest.split_once('/') {
                Some((b, k)) => (Some(b.to_owned()), (!k.is_empty()).then(|| k.to_owned())),
                None if rest.is_empty() => (None, None),
                None => (Some(rest.to_owned()), None),
            },
        };
        let bucket = bucket.map(|b| decode_path(&b)).transpose()?;
        let key = key.map(|k| decode_path(&k)).transpose()?;
        let endpoint = match (&bucket, &key) {
            (None, _) => service_endpoint(method)?,
            (Some(_), None) => bucket_endpoint(method, &query)?,
            (Some(_), Some(_)) => object_endpoint(method, &query, copy_source)?,
        };
        Ok(Routed::S3(Route {
            endpoint,
            bucket,
            key,
            query,
        }))
    }
}

fn service_endpoint(method: &Method) -> Result<Endpoint, RouteError> {
    match *method {
        Method::GET => Ok(Endpoint::ListBuckets),
        _ => Err(RouteError::MethodNotAllowed),
    }
}

fn bucket_endpoint(method: &Method, q: &Query) -> Result<Endpoint, RouteError> {
    use Endpoint::*;
    let m = method.clone();
    if m == Method::OPTIONS {
        return Ok(CorsPreflight);
    }
    if m == Method::GET && q.has("location") {
        return Ok(GetBucketLocation);
    }
    if q.has("versioning") {
        match m {
            Method::GET => return Ok(GetBucketVersioning),
            Method::PUT => return Ok(PutBucketVersioning),
            _ => {}
        }
    }
    if q.has("policy") {
        match m {
            Method::GET => return Ok(GetBucketPolicy),
            Method::PUT => return Ok(PutBucketPolicy),
            Method::DELETE => return Ok(DeleteBucketPolicy),
            _ => {}
        }
    }
    if m == Method::GET && q.has("policyStatus") {
        return Ok(GetBucketPolicyStatus);
    }
    if q.has("tagging") {
        match m {
            Method::GET => return Ok(GetBucketTagging),
            Method::PUT => return Ok(PutBucketTagging),
            Method::DELETE => return Ok(DeleteBucketTagging),
            _ => {}
        }
    }
    if q.has("cors") {
        match m {
            Method::GET => return Ok(GetBucketCors),
            Method::PUT => return Ok(PutBucketCors),
            Method::DELETE => return Ok(DeleteBucketCors),
            _ => {}
        }
    }
    if q.has("lifecycle") {
        return Ok(match m {
            Method::GET => GetBucketLifecycleConfiguration,
            Method::PUT => PutBucketLifecycleConfiguration,
            Method::DELETE => DeleteBucketLifecycle,
            _ => NotImplemented(format!("{}BucketLifecycleConfiguration", verb(&m))),
        });
    }
    for (name, op, config) in BUCKET_SUBRESOURCES {
        if let (Some(set), true) = (ConfigSet::of(name), q.has(name)) {
            // Listed without an id, one configuration with one.
            return Ok(match (&m, q.has("id")) {
                (&Method::GET, false) => GetBucketConfig(BucketConfig::List(set)),
                (&Method::GET, true) => GetBucketConfig(BucketConfig::One(set)),
                _ => NotImplemented(format!("{}{}", verb(&m), set.op())),
            });
        }
        if q.has(name) {
            return Ok(match (&m, config) {
                (&Method::GET, Some(c)) => GetBucketConfig(*c),
                _ => NotImplemented(format!("{}{op}", verb(&m))),
            });
        }
    }
    Ok(match m {
        Method::GET if q.has("uploads") => ListMultipartUploads,
        Method::GET if q.has("versions") => ListObjectVersions,
        Method::GET if q.get("list-type") == Some("2") => ListObjectsV2,
        Method::GET => ListObjects,
        Method::HEAD => HeadBucket,
        Method::PUT => CreateBucket,
        Method::DELETE => DeleteBucket,
        Method::POST if q.has("delete") => DeleteObjects,
        Method::POST => PostObject,
        _ => return Err(RouteError::MethodNotAllowed),
    })
}

fn object_endpoint(method: &Method, q: &Query, copy_source: bool) -> Result<Endpoint, RouteError> {
    use Endpoint::*;
    let m = method.clone();
    if m == Method::OPTIONS {
        return Ok(CorsPreflight);
    }
    if q.has("tagging") {
        match m {
            Method::GET => return Ok(GetObjectTagging),
            Method::PUT => return Ok(PutObjectTagging),
            Method::DELETE => return Ok(DeleteObjectTagging),
            _ => {}
        }
    }
    if m == Method::GET && q.has("acl") {
        return Ok(GetObjectAcl);
    }
    for (name, op) in OBJECT_SUBRESOURCES {
        if q.has(name) {
            let full = match *name {
                "restore" | "select" => (*op).to_owned(),
                _ => format!("{}{op}", verb(&m)),
            };
            return Ok(NotImplemented(full));
        }
    }
    let upload = q.has("uploadId");
    Ok(match m {
        Method::GET if upload => ListParts,
        Method::GET => GetObject,
        Method::HEAD => HeadObject,
        Method::PUT if upload && copy_source => UploadPartCopy,
        Method::PUT if upload => UploadPart,
        Method::PUT if copy_source => CopyObject,
        Method::PUT => PutObject,
        Method::DELETE if upload => AbortMultipartUpload,
        Method::DELETE => DeleteObject,
        Method::POST if q.has("uploads") => CreateMultipartUpload,
        Method::POST if upload => CompleteMultipartUpload,
        _ => return Err(RouteError::MethodNotAllowed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Endpoint::*;

    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        bool,
        Endpoint,
        Option<&'a str>,
        Option<&'a str>,
    );

    fn routed(method: &str, uri: &str, host: &str, copy: bool) -> Result<Routed, RouteError> {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let u: http::Uri = uri.parse().unwrap();
        let q = Query::parse(u.query()).ok_or(RouteError::InvalidUri)?;
        Route::from_request(&m, u.path(), q, Some(host), copy, Some("s3.local"))
    }

    fn route(method: &str, uri: &str, host: &str, copy: bool) -> Result<Route, RouteError> {
        match routed(method, uri, host, copy)? {
            Routed::S3(r) => Ok(r),
            Routed::Gateway(g) => panic!("{method} {uri}: routed to {g:?}"),
        }
    }

    #[test]
    fn gateway_paths() {
        let cases = [
            ("/_s3gw/health", GatewayPath::Health),
            ("/_s3gw/ready", GatewayPath::Ready),
            ("/_s3gw/metrics", GatewayPath::Metrics),
            ("/_s3gw/api/cluster", GatewayPath::ClusterApi),
            ("/_s3gw/api/access", GatewayPath::AccessApi),
            ("/_s3gw/api/access/", GatewayPath::Unknown),
            ("/_s3gw/login", GatewayPath::Login),
            ("/_s3gw/logout", GatewayPath::Logout),
            ("/_s3gw/dashboard", GatewayPath::Dashboard),
            ("/_s3gw/dashboard/", GatewayPath::Asset(String::new())),
            (
                "/_s3gw/dashboard/app.js",
                GatewayPath::Asset("app.js".into()),
            ),
            ("/_s3gw/", GatewayPath::Unknown),
            ("/_s3gw/healthz", GatewayPath::Unknown),
            ("/_s3gw/api/cluster/x", GatewayPath::Unknown),
            ("/_s3gw/admin/v1/keys", GatewayPath::Admin(AdminPath::Keys)),
            (
                "/_s3gw/admin/v1/keys/AK1",
                GatewayPath::Admin(AdminPath::Key("AK1".into())),
            ),
            (
                "/_s3gw/admin/v1/buckets/b.1",
                GatewayPath::Admin(AdminPath::Bucket("b.1".into())),
            ),
            (
                "/_s3gw/admin/v1/buckets/b/allow",
                GatewayPath::Admin(AdminPath::Allow("b".into())),
            ),
            (
                "/_s3gw/admin/v1/buckets/b/deny",
                GatewayPath::Admin(AdminPath::Deny("b".into())),
            ),
            ("/_s3gw/admin/v1/", GatewayPath::Unknown),
            ("/_s3gw/admin/v1/keys/", GatewayPath::Unknown),
            ("/_s3gw/admin/v1/keys/a%2Fb", GatewayPath::Unknown),
            ("/_s3gw/admin/v1/buckets/b/grant", GatewayPath::Unknown),
            ("/_s3gw/admin/v2/keys", GatewayPath::Unknown),
        ];
        for (path, want) in cases {
            for method in ["GET", "PUT", "POST", "DELETE"] {
                assert_eq!(
                    routed(method, path, "localhost", false),
                    Ok(Routed::Gateway(want.clone())),
                    "{method} {path}"
                );
            }
        }
        assert_eq!(GatewayPath::parse("/_s3gw"), None);
        assert_eq!(GatewayPath::parse("/bucket/_s3gw/health"), None);
        assert_eq!(GatewayPath::Ready.name(), "Ready");
        assert_eq!(GatewayPath::Metrics.name(), "Admin");
    }

    #[test]
    fn table() {
        let cases: &[Case] = &[
            ("GET", "/", "localhost:9000", false, ListBuckets, None, None),
            // Under a virtual-hosted bucket the path is a key.
            (
                "GET",
                "/_s3gw/metrics",
                "b1.s3.local",
                false,
                GetObject,
                Some("b1"),
                Some("_s3gw/metrics"),
            ),
            (
                "PUT",
                "/b1",
                "localhost",
                false,
                CreateBucket,
                Some("b1"),
                None,
            ),
            (
                "PUT",
                "/b1/",
                "localhost",
                false,
                CreateBucket,
                Some("b1"),
                None,
            ),
            (
                "HEAD",
                "/b1",
                "localhost",
                false,
                HeadBucket,
                Some("b1"),
                None,
            ),
            (
                "DELETE",
                "/b1",
                "localhost",
                false,
                DeleteBucket,
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1",
                "localhost",
                false,
                ListObjects,
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?list-type=2&prefix=a",
                "localhost",
                false,
                ListObjectsV2,
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?location",
                "localhost",
                false,
                GetBucketLocation,
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?versioning",
                "localhost",
                false,
                GetBucketVersioning,
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?uploads",
                "localhost",
                false,
                ListMultipartUploads,
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?acl",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::Acl),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?analytics",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::List(ConfigSet::Analytics)),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?analytics&id=a1",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::One(ConfigSet::Analytics)),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?intelligent-tiering",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::List(ConfigSet::IntelligentTiering)),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?inventory&id=i",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::One(ConfigSet::Inventory)),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?metrics",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::List(ConfigSet::Metrics)),
                Some("b1"),
                None,
            ),
            (
                "PUT",
                "/b1?metrics&id=m",
                "localhost",
                false,
                NotImplemented("PutBucketMetricsConfiguration".into()),
                Some("b1"),
                None,
            ),
            (
                "DELETE",
                "/b1?inventory&id=i",
                "localhost",
                false,
                NotImplemented("DeleteBucketInventoryConfiguration".into()),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?replication",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::Replication),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?object-lock",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::ObjectLock),
                Some("b1"),
                None,
            ),
            (
                "PUT",
                "/b1?object-lock",
                "localhost",
                false,
                NotImplemented("PutObjectLockConfiguration".into()),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?logging",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::Logging),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?notification",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::Notification),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?accelerate",
                "localhost",
                false,
                GetBucketConfig(BucketConfig::Accelerate),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?policy",
                "localhost",
                false,
                GetBucketPolicy,
                Some("b1"),
                None,
            ),
            (
                "PUT",
                "/b1?policy",
                "localhost",
                false,
                PutBucketPolicy,
                Some("b1"),
                None,
            ),
            (
                "DELETE",
                "/b1?policy",
                "localhost",
                false,
                DeleteBucketPolicy,
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?policyStatus",
                "localhost",
                false,
                GetBucketPolicyStatus,
                Some("b1"),
                None,
            ),
            (
                "PUT",
                "/b1?policyStatus",
                "localhost",
                false,
                NotImplemented("PutBucketPolicyStatus".into()),
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?tagging",
                "localhost",
                false,
                GetBucketTagging,
                Some("b1"),
                None,
            ),
            (
                "PUT",
                "/b1?tagging",
                "localhost",
                false,
                PutBucketTagging,
                Some("b1"),
                None,
            ),
            (
                "DELETE",
                "/b1?tagging",
                "localhost",
                false,
                DeleteBucketTagging,
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?lifecycle",
                "localhost",
                false,
                GetBucketLifecycleConfiguration,
                Some("b1"),
                None,
            ),
            (
                "PUT",
                "/b1?lifecycle",
                "localhost",
                false,
                PutBucketLifecycleConfiguration,
                Some("b1"),
                None,
            ),
            (
                "DELETE",
                "/b1?lifecycle",
                "localhost",
                false,
                DeleteBucketLifecycle,
                Some("b1"),
                None,
            ),
            (
                "POST",
                "/b1?lifecycle",
                "localhost",
                false,
                NotImplemented("PostBucketLifecycleConfiguration".into()),
                Some("b1"),
                None,
            ),
            (
                "POST",
                "/b1?tagging",
                "localhost",
                false,
                NotImplemented("PostBucketTagging".into()),
                Some("b1"),
                None,
            ),
            (
                "PUT",
                "/b1?versioning",
                "localhost",
                false,
                PutBucketVersioning,
                Some("b1"),
                None,
            ),
            (
                "DELETE",
                "/b1?cors",
                "localhost",
                false,
                DeleteBucketCors,
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1?cors",
                "localhost",
                false,
                GetBucketCors,
                Some("b1"),
                None,
            ),
            (
                "PUT",
                "/b1?cors",
                "localhost",
                false,
                PutBucketCors,
                Some("b1"),
                None,
            ),
            (
                "OPTIONS",
                "/b1",
                "localhost",
                false,
                CorsPreflight,
                Some("b1"),
                None,
            ),
            (
                "OPTIONS",
                "/b1/k?uploads",
                "localhost",
                false,
                CorsPreflight,
                Some("b1"),
                Some("k"),
            ),
            (
                "OPTIONS",
                "/k",
                "b1.s3.local",
                false,
                CorsPreflight,
                Some("b1"),
                Some("k"),
            ),
            (
                "GET",
                "/b1?versions",
                "localhost",
                false,
                ListObjectVersions,
                Some("b1"),
                None,
            ),
            (
                "POST",
                "/b1?delete",
                "localhost",
                false,
                DeleteObjects,
                Some("b1"),
                None,
            ),
            (
                "GET",
                "/b1/k",
                "localhost",
                false,
                GetObject,
                Some("b1"),
                Some("k"),
            ),
            (
                "GET",
                "/b1/a/b//c",
                "localhost",
                false,
                GetObject,
                Some("b1"),
                Some("a/b//c"),
            ),
            (
                "GET",
                "/b1/a%20b%2Bc",
                "localhost",
                false,
                GetObject,
                Some("b1"),
                Some("a b+c"),
            ),
            (
                "GET",
                "/b1/a+b",
                "localhost",
                false,
                GetObject,
                Some("b1"),
                Some("a+b"),
            ),
            (
                "HEAD",
                "/b1/k",
                "localhost",
                false,
                HeadObject,
                Some("b1"),
                Some("k"),
            ),
            (
                "PUT",
                "/b1/k",
                "localhost",
                false,
                PutObject,
                Some("b1"),
                Some("k"),
            ),
            (
                "PUT",
                "/b1/k",
                "localhost",
                true,
                CopyObject,
                Some("b1"),
                Some("k"),
            ),
            (
                "DELETE",
                "/b1/k",
                "localhost",
                false,
                DeleteObject,
                Some("b1"),
                Some("k"),
            ),
            (
                "GET",
                "/b1/k?tagging",
                "localhost",
                false,
                GetObjectTagging,
                Some("b1"),
                Some("k"),
            ),
            (
                "PUT",
                "/b1/k?tagging",
                "localhost",
                false,
                PutObjectTagging,
                Some("b1"),
                Some("k"),
            ),
            (
                "DELETE",
                "/b1/k?tagging&versionId=null",
                "localhost",
                false,
                DeleteObjectTagging,
                Some("b1"),
                Some("k"),
            ),
            (
                "POST",
                "/b1/k?tagging",
                "localhost",
                false,
                NotImplemented("PostObjectTagging".into()),
                Some("b1"),
                Some("k"),
            ),
            (
                "POST",
                "/b1/k?uploads",
                "localhost",
                false,
                CreateMultipartUpload,
                Some("b1"),
                Some("k"),
            ),
            (
                "PUT",
                "/b1/k?partNumber=1&uploadId=u",
                "localhost",
                false,
                UploadPart,
                Some("b1"),
                Some("k"),
            ),
            (
                "PUT",
                "/b1/k?partNumber=1&uploadId=u",
                "localhost",
                true,
                UploadPartCopy,
                Some("b1"),
                Some("k"),
            ),
            (
                "POST",
                "/b1/k?uploadId=u",
                "localhost",
                false,
                CompleteMultipartUpload,
                Some("b1"),
                Some("k"),
            ),
            (
                "DELETE",
                "/b1/k?uploadId=u",
                "localhost",
                false,
                AbortMultipartUpload,
                Some("b1"),
                Some("k"),
            ),
            (
                "GET",
                "/b1/k?uploadId=u",
                "localhost",
                false,
                ListParts,
                Some("b1"),
                Some("k"),
            ),
            (
                "POST",
                "/b1/k?restore",
                "localhost",
                false,
                NotImplemented("RestoreObject".into()),
                Some("b1"),
                Some("k"),
            ),
            // virtual-hosted style
            (
                "GET",
                "/",
                "vb.s3.local:9000",
                false,
                ListObjects,
                Some("vb"),
                None,
            ),
            (
                "GET",
                "/?list-type=2",
                "vb.s3.local",
                false,
                ListObjectsV2,
                Some("vb"),
                None,
            ),
            (
                "PUT",
                "/",
                "vb.s3.local",
                false,
                CreateBucket,
                Some("vb"),
                None,
            ),
            (
                "GET",
                "/dir/key",
                "vb.S3.Local:9000",
                false,
                GetObject,
                Some("vb"),
                Some("dir/key"),
            ),
            (
                "GET",
                "/_s3gw/health",
                "vb.s3.local",
                false,
                GetObject,
                Some("vb"),
                Some("_s3gw/health"),
            ),
            ("GET", "/", "s3.local", false, ListBuckets, None, None),
            (
                "GET",
                "/b2/k",
                "other.host",
                false,
                GetObject,
                Some("b2"),
                Some("k"),
            ),
        ];
        for (m, uri, host, copy, endpoint, bucket, key) in cases {
            let r = route(m, uri, host, *copy).unwrap_or_else(|e| panic!("{m} {uri}: {e:?}"));
            assert_eq!(&r.endpoint, endpoint, "{m} {uri} {host}");
            assert_eq!(r.bucket.as_deref(), *bucket, "{m} {uri} {host}");
            assert_eq!(r.key.as_deref(), *key, "{m} {uri} {host}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            route("POST", "/", "h", false),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(
            route("PATCH", "/b/k", "h", false),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(
            route("GET", "/b/%ff", "h", false),
            Err(RouteError::InvalidUri)
        );
        for bad in ["/b/a%zzb", "/b/a%4", "/b/%", "/b%2/k"] {
            assert_eq!(
                route("GET", bad, "h", false),
                Err(RouteError::InvalidUri),
                "{bad}"
            );
        }
        assert_eq!(
            route("GET", "/b?prefix=%c3", "h", false),
            Err(RouteError::InvalidUri)
        );
    }

    #[test]
    fn names() {
        assert_eq!(GetBucketConfig(BucketConfig::Acl).name(), "GetBucketAcl");
        assert_eq!(CorsPreflight.name(), "CorsPreflight");
        assert_eq!(
            NotImplemented("PutBucketWebsite".into()).name(),
            "PutBucketWebsite"
        );
        assert!(PutObject.takes_streaming_body());
        assert!(!DeleteObjects.takes_streaming_body());
    }
}
