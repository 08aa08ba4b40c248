//! Inputs of the listings: the parameters every listing shares
//! ([`ListParams`]) and each one's markers.

use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::multipart::UploadTarget;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::Query;
use crate::types::{ObjectKey, VersionRef};

/// The default and the cap of every `max-*` parameter.
pub(crate) const MAX_PAGE: usize = 1000;

/// Characters left as they are by `encoding-type=url` (botocore decodes
/// with `unquote_plus`, so `+` and space must be escaped).
pub(crate) const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// A `max-*` query parameter: a non-negative integer, [`MAX_PAGE`] when
/// absent, capped there.
fn max_param(q: &Query, name: &str) -> Result<usize, S3Error> {
    match q.get(name) {
        None => Ok(MAX_PAGE),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| n.min(MAX_PAGE as i64) as usize)
            .ok_or_else(|| {
                S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    format!("{name} must be a non-negative integer"),
                )
            }),
    }
}

/// `encoding-type`: only `url` is defined.
fn url_encoding(q: &Query) -> Result<bool, S3Error> {
    match q.get("encoding-type") {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("url") => Ok(true),
        Some(_) => Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            "Invalid Encoding Method specified in Request",
        )),
    }
}

/// What every listing of keys takes: prefix, delimiter, page size and
/// encoding.
#[derive(Debug, Clone)]
pub struct ListParams {
    pub prefix: String,
    /// Never empty: an empty `delimiter` is none.
    pub delimiter: Option<String>,
    /// `max-keys` or `max-uploads`.
    pub max: usize,
    /// `encoding-type=url`.
    pub url_encode: bool,
}

impl ListParams {
    /// The parameters, with the page size from `max_name`.
    pub(crate) fn parse(q: &Query, max_name: &str) -> Result<ListParams, S3Error> {
        let max = max_param(q, max_name)?;
        Ok(ListParams {
            prefix: q.get("prefix").unwrap_or("").to_owned(),
            delimiter: q
                .get("delimiter")
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
            max,
            url_encode: url_encoding(q)?,
        })
    }

    /// A key, prefix or marker as the answer names it.
    pub(crate) fn enc(&self, s: &str) -> String {
        if self.url_encode {
            utf8_percent_encode(s, URL_ENCODE).to_string()
        } else {
            s.to_owned()
        }
    }

    pub(crate) fn encoding_type(&self) -> Option<&'static str> {
        self.url_encode.then_some("url")
    }
}

/// The page size of ListBuckets when `max-buckets` is absent and its cap
/// (S3's default quota of general purpose buckets per account).
pub(crate) const MAX_BUCKETS_PAGE: usize = 10_000;

/// ListBuckets: a page of the caller's buckets in name order.
#[derive(Debug, Default)]
pub struct ListBucketsInput {
    /// `max-buckets` (1 to [`MAX_BUCKETS_PAGE`]), or that cap.
    pub max_buckets: usize,
    /// The last bucket name of the previous page, from `continuation-token`.
    pub after: Option<String>,
    /// `prefix`, when not empty.
    pub prefix: Option<String>,
    /// `bucket-region`, when not empty.
    pub bucket_region: Option<String>,
}

impl ListBucketsInput {
    pub(crate) fn parse(q: &Query) -> Result<ListBucketsInput, S3Error> {
        let max_buckets = match q.get("max-buckets") {
            None => MAX_BUCKETS_PAGE,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_BUCKETS_PAGE).contains(n))
                .ok_or_else(|| {
                    S3Error::new(
                        S3ErrorCode::InvalidArgument,
                        "max-buckets must be an integer between 1 and 10000",
                    )
                })?,
        };
        let present = |name: &str| q.get(name).filter(|v| !v.is_empty()).map(str::to_owned);
        let after = match present("continuation-token") {
            None => None,
            Some(t) => Some(decode_token(&t)?),
        };
        Ok(ListBucketsInput {
            max_buckets,
            after,
            prefix: present("prefix"),
            bucket_region: present("bucket-region"),
        })
    }
}

/// A continuation token: the last name or key a page returned, in
/// URL-safe base64 (stateless, so any gateway continues any listing).
pub(crate) fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.as_bytes())
}

/// The name or key a continuation token carries.
pub(crate) fn decode_token(token: &str) -> Result<String, S3Error> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect",
            )
        })
}

/// ListObjects (v1).
#[derive(Debug)]
pub struct ListV1Input {
    pub params: ListParams,
    pub marker: String,
}

impl ListV1Input {
    pub(crate) fn parse(q: &Query) -> Result<ListV1Input, S3Error> {
        Ok(ListV1Input {
            params: ListParams::parse(q, "max-keys")?,
            marker: q.get("marker").unwrap_or("").to_owned(),
        })
    }
}

/// ListObjectsV2.
#[derive(Debug)]
pub struct ListV2Input {
    pub params: ListParams,
    /// `continuation-token`, as sent (the answer echoes it).
    pub continuation_token: Option<String>,
    /// `start-after`, when not empty.
    pub start_after: Option<String>,
    pub fetch_owner: bool,
}

impl ListV2Input {
    pub(crate) fn parse(q: &Query) -> Result<ListV2Input, S3Error> {
        Ok(ListV2Input {
            params: ListParams::parse(q, "max-keys")?,
            continuation_token: q.get("continuation-token").map(str::to_owned),
            start_after: q
                .get("start-after")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            fetch_owner: q
                .get("fetch-owner")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        })
    }
}

/// ListObjectVersions.
#[derive(Debug)]
pub struct ListVersionsInput {
    pub params: ListParams,
    /// `key-marker`, when not empty.
    pub key_marker: Option<String>,
    /// `version-id-marker`: with a key marker, the page starts after this
    /// version of that key.
    pub version_id_marker: Option<VersionRef>,
}

impl ListVersionsInput {
    pub(crate) fn parse(q: &Query) -> Result<ListVersionsInput, S3Error> {
        let params = ListParams::parse(q, "max-keys")?;
        let key_marker = q
            .get("key-marker")
            .filter(|k| !k.is_empty())
            .map(str::to_owned);
        let version_id_marker = match q.get("version-id-marker").filter(|v| !v.is_empty()) {
            None => None,
            // S3: "A version-id marker cannot be specified without a key
            // marker."
            Some(_) if key_marker.is_none() => {
                return Err(S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "A version-id marker cannot be specified without a key marker.",
                ))
            }
            Some(v) => Some(super::object::version_ref(v)?),
        };
        Ok(ListVersionsInput {
            params,
            key_marker,
            version_id_marker,
        })
    }
}

/// ListMultipartUploads.
#[derive(Debug)]
pub struct ListUploadsInput {
    pub params: ListParams,
    pub key_marker: String,
    /// `upload-id-marker`; it counts only with a key marker, so it is empty
    /// without one.
    pub upload_id_marker: String,
}

impl ListUploadsInput {
    pub(crate) fn parse(q: &Query) -> Result<ListUploadsInput, S3Error> {
        let params = ListParams::parse(q, "max-uploads")?;
        let key_marker = q.get("key-marker").unwrap_or("").to_owned();
        let upload_id_marker = if key_marker.is_empty() {
            String::new()
        } else {
            q.get("upload-id-marker").unwrap_or("").to_owned()
        };
        Ok(ListUploadsInput {
            params,
            key_marker,
            upload_id_marker,
        })
    }
}

/// ListParts.
#[derive(Debug)]
pub struct ListPartsInput {
    pub upload: UploadTarget,
    pub max_parts: usize,
    /// Parts above this number are listed (0: from the first).
    pub part_number_marker: u32,
}

impl ListPartsInput {
    pub(crate) fn parse(key: ObjectKey, q: &Query) -> Result<ListPartsInput, S3Error> {
        let upload = UploadTarget::parse(key, q)?;
        let max_parts = max_param(q, "max-parts")?;
        let part_number_marker = match q.get("part-number-marker") {
            None | Some("") => 0,
            Some(v) => v.parse().map_err(|_| {
                S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "part-number-marker must be an integer",
                )
            })?,
        };
        Ok(ListPartsInput {
            upload,
            max_parts,
            part_number_marker,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_matches_botocore_expectations() {
        let q = Query::parse(Some("encoding-type=url")).unwrap();
        let p = ListParams::parse(&q, "max-keys").unwrap();
        assert_eq!(p.enc("asdf+b"), "asdf%2Bb");
        assert_eq!(p.enc("quux ab/"), "quux%20ab/");
        assert_eq!(p.enc("é%"), "%C3%A9%25");
        assert_eq!(p.encoding_type(), Some("url"));
    }

    #[test]
    fn shared_parameters() {
        let q = Query::parse(Some("prefix=a%2F&delimiter=&max-keys=5000&max-uploads=7")).unwrap();
        let p = ListParams::parse(&q, "max-keys").unwrap();
        assert_eq!(
            (p.prefix.as_str(), p.delimiter, p.max),
            ("a/", None, MAX_PAGE)
        );
        assert_eq!(ListParams::parse(&q, "max-uploads").unwrap().max, 7);
        for bad in ["max-keys=-1", "max-keys=x", "encoding-type=base64"] {
            let q = Query::parse(Some(bad)).unwrap();
            let e = ListParams::parse(&q, "max-keys").unwrap_err();
            assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{bad}");
        }
        let q = Query::parse(Some("upload-id-marker=u")).unwrap();
        assert_eq!(ListUploadsInput::parse(&q).unwrap().upload_id_marker, "");
        let q = Query::parse(Some("key-marker=k&upload-id-marker=u")).unwrap();
        assert_eq!(ListUploadsInput::parse(&q).unwrap().upload_id_marker, "u");
    }

    #[test]
    fn list_buckets_parameters() {
        let parse = |q: &str| ListBucketsInput::parse(&Query::parse(Some(q)).unwrap());
        let all = parse("").unwrap();
        assert_eq!(all.max_buckets, MAX_BUCKETS_PAGE);
        assert_eq!(
            (all.after, all.prefix, all.bucket_region),
            (None, None, None)
        );
        let token = encode_token("bucket-b");
        let i = parse(&format!(
            "max-buckets=2&continuation-token={token}&prefix=bu&bucket-region=eu-west-1"
        ))
        .unwrap();
        assert_eq!(i.max_buckets, 2);
        assert_eq!(i.after.as_deref(), Some("bucket-b"));
        assert_eq!(i.prefix.as_deref(), Some("bu"));
        assert_eq!(i.bucket_region.as_deref(), Some("eu-west-1"));
        let empty = parse("continuation-token=&prefix=&bucket-region=").unwrap();
        assert_eq!((empty.after, empty.prefix), (None, None));
        for bad in [
            "max-buckets=0",
            "max-buckets=10001",
            "max-buckets=-1",
            "max-buckets=x",
            "continuation-token=!!",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn tokens_round_trip() {
        for k in ["a", "dir/ü", "x+y z"] {
            assert_eq!(decode_token(&encode_token(k)).unwrap(), k);
        }
        assert!(decode_token("!!!").is_err());
    }

    #[test]
    fn version_markers() {
        let parse = |q: &str| ListVersionsInput::parse(&Query::parse(Some(q)).unwrap());
        let i = parse("key-marker=k&version-id-marker=null&max-keys=2").unwrap();
        assert_eq!(i.key_marker.as_deref(), Some("k"));
        assert_eq!(i.version_id_marker, Some(VersionRef::Null));
        assert_eq!(i.params.max, 2);
        let none = parse("key-marker=&version-id-marker=").unwrap();
        assert_eq!((none.key_marker, none.version_id_marker), (None, None));
        for bad in [
            "version-id-marker=null",
            "key-marker=k&version-id-marker=xyz",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{bad}");
        }
    }
}
