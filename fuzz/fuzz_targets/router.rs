//! The router: `Route::from_request` on a method, a path and query, a Host
//! and the presence of `x-amz-copy-source`, with and without a virtual-host
//! domain, after the query is decoded as the gateway decodes it.
//!
//! Input: a flags byte (bit 0: copy source; bit 1: domain `s3.local`),
//! then line 1 method, line 2 path and query, line 3 Host.
//!
//! Invariants:
//! * the gateway's own paths (`GatewayPath`) are routed only from paths
//!   under `/_s3gw/` and never under a virtual-host bucket, and parse back
//!   to themselves;
//! * no bucket → ListBuckets; a key → an object endpoint, and
//!   the key is never empty; a streaming body only for PUT; copy endpoints
//!   only with a copy source;
//! * the router is deterministic;
//! * the decoded query round-trips: its pairs, UriEncoded and parsed
//!   again, give the same `Query` (what the signature covers is what the
//!   router read);
//! * an accepted bucket name is kept as given; `successor(key)` is greater
//!   than the key and every string it prefixes.

#![no_main]

use http::Method;
use libfuzzer_sys::fuzz_target;
use s3gw::auth::uri_encode;
use s3gw::http::router::{RouteError, HEALTH_PATH, READY_PATH, RESERVED_PREFIX};
use s3gw::http::{Endpoint, GatewayPath, Query, Route, Routed};
use s3gw::types::{successor, BucketName};
use s3gw_fuzz::{lines, Cursor};

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor(data);
    let flags = c.byte();
    let l = lines(c.rest());
    if l.len() < 2 {
        return;
    }
    let Ok(method) = Method::from_bytes(l[0]) else {
        return;
    };
    let Ok(target) = std::str::from_utf8(l[1]) else {
        return;
    };
    // The path and query as hyper hands them over (a URI it accepts).
    let Ok(uri) = target.parse::<http::Uri>() else {
        return;
    };
    let host = l.get(2).and_then(|h| std::str::from_utf8(h).ok());
    let copy_source = flags & 1 == 1;
    let domain = (flags & 2 == 2).then_some("s3.local");

    let Some(query) = Query::parse(uri.query()) else {
        return;
    };
    let again = Query::parse(Some(&encode(&query))).expect("re-encoded query is UTF-8");
    assert_eq!(again, query, "query did not round-trip");

    let path = uri.path();
    let route = Route::from_request(&method, path, query.clone(), host, copy_source, domain);
    let twice = Route::from_request(&method, path, query, host, copy_source, domain);
    assert_eq!(route, twice);
    let route = match route {
        Ok(Routed::S3(r)) => r,
        Ok(Routed::Gateway(g)) => {
            // Only a path under the prefix, never on a bucket's own host.
            assert!(path.starts_with(RESERVED_PREFIX));
            assert_eq!(GatewayPath::parse(path), Some(g.clone()));
            match g {
                GatewayPath::Health => assert_eq!(path, HEALTH_PATH),
                GatewayPath::Ready => assert_eq!(path, READY_PATH),
                _ => {}
            }
            return;
        }
        Err(RouteError::InvalidUri | RouteError::MethodNotAllowed) => return,
    };

    // A path under the prefix is the gateway's unless a bucket's host names it.
    if path.starts_with(RESERVED_PREFIX) {
        assert!(route.bucket.is_some() && domain.is_some());
    }
    match (&route.bucket, &route.key) {
        (None, Some(_)) => panic!("a key without a bucket"),
        (None, None) => assert!(matches!(route.endpoint, Endpoint::ListBuckets)),
        (Some(_), None) => assert!(!is_object_endpoint(&route.endpoint)),
        (Some(_), Some(k)) => {
            assert!(!k.is_empty());
            assert!(!is_bucket_endpoint(&route.endpoint));
        }
    }
    if route.endpoint.takes_streaming_body() {
        assert_eq!(method, Method::PUT);
    }
    if matches!(
        route.endpoint,
        Endpoint::CopyObject | Endpoint::UploadPartCopy
    ) {
        assert!(copy_source);
    }
    assert!(!route.endpoint.name().is_empty());

    if let Some(b) = &route.bucket {
        if let Some(name) = BucketName::parse(b) {
            assert_eq!(name.as_str(), b);
        }
    }
    if let Some(k) = &route.key {
        if let Some(s) = successor(k) {
            assert!(s.as_str() > k.as_str() && !s.starts_with(k.as_str()));
        }
    }
});

fn encode(q: &Query) -> String {
    q.iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, true), uri_encode(v, true)))
        .collect::<Vec<_>>()
        .join("&")
}

fn is_object_endpoint(e: &Endpoint) -> bool {
    use Endpoint::*;
    matches!(
        e,
        GetObject
            | HeadObject
            | PutObject
            | CopyObject
            | DeleteObject
            | CreateMultipartUpload
            | UploadPart
            | UploadPartCopy
            | CompleteMultipartUpload
            | AbortMultipartUpload
            | ListParts
            | GetObjectTagging
            | GetObjectAcl
    )
}

fn is_bucket_endpoint(e: &Endpoint) -> bool {
    use Endpoint::*;
    matches!(
        e,
        ListObjects
            | ListObjectsV2
            | HeadBucket
            | CreateBucket
            | DeleteBucket
            | DeleteObjects
            | GetBucketLocation
            | GetBucketVersioning
            | GetBucketConfig(_)
            | ListMultipartUploads
            | ListBuckets
    )
}
