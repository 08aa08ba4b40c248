//! Inputs of the single-object operations: GetObject/HeadObject,
//! PutObject, CopyObject, DeleteObject and the fixed tagging/ACL answers.

use std::collections::BTreeMap;

use http::HeaderMap;
use percent_encoding::percent_decode_str;

use super::{header, PartNumber};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::{
    content_headers, user_metadata, write_condition, ByteRange, Conditions,
};
use crate::http::Query;
use crate::s3::tagging::{bad_tagging_header, parse_tagging_header};
use crate::storage::records::ContentHeaders;
use crate::storage::WriteCondition;
use crate::types::{ChecksumAlgorithm, ObjectKey, TagSet, VersionRef};

/// The version `versionId` (or a copy source's `versionId`) names:
/// `InvalidArgument` ("Invalid version id specified") for text that names
/// no version this store could hold, as S3 answers.
pub(crate) fn version_ref(v: &str) -> Result<VersionRef, S3Error> {
    VersionRef::parse(v)
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidArgument, "Invalid version id specified"))
}

/// An object, by key and (optionally) version.
#[derive(Debug, Clone)]
pub struct ObjectTarget {
    pub key: ObjectKey,
    /// `versionId`; `None` addresses the current version.
    pub version_id: Option<VersionRef>,
}

impl ObjectTarget {
    pub(crate) fn parse(key: ObjectKey, q: &Query) -> Result<ObjectTarget, S3Error> {
        let version_id = q.get("versionId").map(version_ref).transpose()?;
        Ok(ObjectTarget { key, version_id })
    }
}

/// The `response-*` query parameters of GetObject and the header each one
/// overrides.
const OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

/// GetObject and HeadObject.
#[derive(Debug)]
pub struct GetObjectInput {
    pub target: ObjectTarget,
    /// `partNumber`: one part of a multipart object.
    pub part_number: Option<PartNumber>,
    /// `Range`; never together with `part_number`.
    pub range: Option<ByteRange>,
    pub conditions: Conditions,
    /// `x-amz-checksum-mode: ENABLED`.
    pub checksum_mode: bool,
    /// Headers of the answer the `response-*` parameters override, with
    /// their values.
    pub overrides: Vec<(&'static str, String)>,
}

impl GetObjectInput {
    pub(crate) fn parse(
        key: ObjectKey,
        q: &Query,
        h: &HeaderMap,
    ) -> Result<GetObjectInput, S3Error> {
        let target = ObjectTarget::parse(key, q)?;
        let part_number = q.get("partNumber").map(PartNumber::parse).transpose()?;
        let range_header = header(h, "range");
        if part_number.is_some() && range_header.is_some() {
            return Err(S3Error::new(
                S3ErrorCode::InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter",
            ));
        }
        Ok(GetObjectInput {
            target,
            part_number,
            range: range_header.as_deref().and_then(ByteRange::parse),
            conditions: Conditions::from_request(h),
            checksum_mode: header(h, "x-amz-checksum-mode")
                .is_some_and(|v| v.eq_ignore_ascii_case("enabled")),
            overrides: OVERRIDES
                .iter()
                .filter_map(|(param, name)| q.get(param).map(|v| (*name, v.to_owned())))
                .collect(),
        })
    }
}

/// PutObject.
#[derive(Debug)]
pub struct PutObjectInput {
    pub key: ObjectKey,
    pub condition: WriteCondition,
    pub content: ContentHeaders,
    pub user_meta: BTreeMap<String, String>,
    /// `x-amz-tagging`, checked.
    pub tags: TagSet,
}

impl PutObjectInput {
    pub(crate) fn parse(key: ObjectKey, h: &HeaderMap) -> Result<PutObjectInput, S3Error> {
        Ok(PutObjectInput {
            key,
            condition: write_condition(h, "PutObject")?,
            content: content_headers(h),
            user_meta: user_metadata(h)?,
            tags: tagging_header(h)?,
        })
    }
}

/// The tags of `x-amz-tagging` (none without the header), checked
/// whole: `InvalidArgument`, `InvalidTag` or `BadRequest` otherwise.
pub(crate) fn tagging_header(h: &HeaderMap) -> Result<TagSet, S3Error> {
    match h.get("x-amz-tagging").map(|v| v.to_str()) {
        None => Ok(TagSet::default()),
        Some(Ok(v)) => parse_tagging_header(v.trim()),
        // Bytes that are not visible ASCII: not URL-encoded.
        Some(Err(_)) => Err(bad_tagging_header()),
    }
}

/// `x-amz-copy-source` with its `x-amz-copy-source-if-*` conditions.
#[derive(Debug, Clone)]
pub struct CopySource {
    pub bucket: String,
    pub key: ObjectKey,
    /// `?versionId=` of the source; `None`: its current version.
    pub version: Option<VersionRef>,
    pub conditions: Conditions,
}

impl CopySource {
    pub(crate) fn parse(h: &HeaderMap) -> Result<CopySource, S3Error> {
        let (bucket, key, version) = parse_copy_source(text_or_empty(h, "x-amz-copy-source"))?;
        Ok(CopySource {
            bucket,
            key,
            version,
            conditions: Conditions::from_copy_source(h),
        })
    }
}

fn text_or_empty<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    crate::http::headers::text(h, name).unwrap_or("")
}

/// `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded.
pub(crate) fn parse_copy_source(
    v: &str,
) -> Result<(String, ObjectKey, Option<VersionRef>), S3Error> {
    let bad = || S3Error::new(S3ErrorCode::InvalidArgument, "Invalid copy source");
    let (path, query) = v.split_once('?').unwrap_or((v, ""));
    let version = match query {
        "" => None,
        q => match q.strip_prefix("versionId=") {
            Some(version) => Some(version_ref(version)?),
            // Another parameter would be ignored: refused instead.
            None => return Err(bad()),
        },
    };
    let decoded = percent_decode_str(path).decode_utf8().map_err(|_| bad())?;
    let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (bucket, key) = decoded.split_once('/').ok_or_else(bad)?;
    if bucket.is_empty() {
        return Err(bad());
    }
    let key = ObjectKey::parse(key).map_err(|_| bad())?;
    Ok((bucket.to_owned(), key, version))
}

/// CopyObject.
#[derive(Debug)]
pub struct CopyObjectInput {
    pub key: ObjectKey,
    pub source: CopySource,
    /// `x-amz-metadata-directive: REPLACE`: the request's content headers
    /// and metadata replace the source's.
    pub replace: bool,
    pub content: ContentHeaders,
    pub user_meta: BTreeMap<String, String>,
    /// `x-amz-checksum-algorithm`; without it the copy keeps the source's.
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    /// `x-amz-tagging-directive: REPLACE`: the tags of `x-amz-tagging`
    /// (none without it); `None` (`COPY`, the default) keeps the source's.
    pub tags: Option<TagSet>,
}

impl CopyObjectInput {
    pub(crate) fn parse(key: ObjectKey, h: &HeaderMap) -> Result<CopyObjectInput, S3Error> {
        let source = CopySource::parse(h)?;
        let replace = match header(h, "x-amz-metadata-directive").map(|d| d.to_ascii_uppercase()) {
            None => false,
            Some(d) if d == "COPY" => false,
            Some(d) if d == "REPLACE" => true,
            Some(_) => {
                return Err(S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "Unknown metadata directive.",
                ))
            }
        };
        let checksum_algorithm = match header(h, "x-amz-checksum-algorithm") {
            None => None,
            Some(name) => Some(ChecksumAlgorithm::from_name(&name).ok_or_else(|| {
                S3Error::new(S3ErrorCode::InvalidRequest, "Invalid checksum algorithm")
            })?),
        };
        let tags = match header(h, "x-amz-tagging-directive").map(|d| d.to_ascii_uppercase()) {
            Some(d) if d == "REPLACE" => Some(tagging_header(h)?),
            Some(d) if d != "COPY" => {
                return Err(S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "Unknown tagging directive.",
                ))
            }
            // COPY keeps the source's tags: tags given beside it would be
            // dropped without a word, so they are refused.
            _ if !tagging_header(h)?.is_empty() => {
                return Err(S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "x-amz-tagging on a copy needs x-amz-tagging-directive: REPLACE",
                ))
            }
            _ => None,
        };
        Ok(CopyObjectInput {
            key,
            source,
            replace,
            tags,
            content: content_headers(h),
            user_meta: if replace {
                user_metadata(h)?
            } else {
                BTreeMap::new()
            },
            checksum_algorithm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ObjectKey {
        ObjectKey::parse(s).unwrap()
    }

    #[test]
    fn copy_source_forms() {
        assert_eq!(
            parse_copy_source("/b1/a%20b/c").unwrap(),
            ("b1".to_owned(), key("a b/c"), None)
        );
        assert_eq!(
            parse_copy_source("b1/k?versionId=null").unwrap(),
            ("b1".to_owned(), key("k"), Some(VersionRef::Null))
        );
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            parse_copy_source(&format!("b1/k?versionId={id}"))
                .unwrap()
                .2,
            VersionRef::parse(id)
        );
        assert!(parse_copy_source("b1/k?partNumber=1").is_err());
        assert!(parse_copy_source("b1").is_err());
        assert!(parse_copy_source("/b1/").is_err());
        assert!(parse_copy_source(&("/b1/".to_owned() + &"k".repeat(1025))).is_err());
        assert!(parse_copy_source("b1/k?versionId=abc").is_err());
        assert!(parse_copy_source("b1/%ff").is_err());
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn get_object_parameters() {
        let q = Query::parse(Some("partNumber=2&response-content-type=a%2Fb")).unwrap();
        let i = GetObjectInput::parse(
            key("k"),
            &q,
            &headers(&[("x-amz-checksum-mode", "Enabled")]),
        )
        .unwrap();
        assert_eq!(i.part_number.map(PartNumber::get), Some(2));
        assert!(i.checksum_mode && i.range.is_none());
        assert_eq!(i.overrides, vec![("content-type", "a/b".to_owned())]);
        let both = GetObjectInput::parse(key("k"), &q, &headers(&[("range", "bytes=0-1")]));
        assert_eq!(both.unwrap_err().code, S3ErrorCode::InvalidRequest);
        let q = Query::parse(Some("partNumber=0")).unwrap();
        let zero = GetObjectInput::parse(key("k"), &q, &HeaderMap::new());
        assert_eq!(zero.unwrap_err().code, S3ErrorCode::InvalidArgument);
        let q = Query::parse(Some("versionId=3")).unwrap();
        let version = GetObjectInput::parse(key("k"), &q, &HeaderMap::new());
        assert_eq!(version.unwrap_err().code, S3ErrorCode::InvalidArgument);
        let q = Query::parse(Some("versionId=null")).unwrap();
        let null = GetObjectInput::parse(key("k"), &q, &headers(&[("range", "bytes=1-")])).unwrap();
        assert_eq!(null.target.version_id, Some(VersionRef::Null));
        assert_eq!(
            null.range,
            Some(ByteRange::From {
                start: 1,
                last: None
            })
        );
    }

    #[test]
    fn copy_directives() {
        let src = ("x-amz-copy-source", "/b/k");
        let parse = |extra: &[(&'static str, &str)]| {
            let mut pairs = vec![src];
            pairs.extend_from_slice(extra);
            CopyObjectInput::parse(key("d"), &headers(&pairs))
        };
        assert!(!parse(&[]).unwrap().replace);
        let replace = parse(&[
            ("x-amz-metadata-directive", "replace"),
            ("x-amz-meta-a", "1"),
        ]);
        let replace = replace.unwrap();
        assert!(replace.replace);
        assert_eq!(replace.user_meta.get("a").map(String::as_str), Some("1"));
        let bad = parse(&[("x-amz-metadata-directive", "MOVE")]).unwrap_err();
        assert_eq!(bad.code, S3ErrorCode::InvalidArgument);
        let alg = parse(&[("x-amz-checksum-algorithm", "CRC32C")]).unwrap();
        assert_eq!(alg.checksum_algorithm, Some(ChecksumAlgorithm::Crc32c));
        let bad = parse(&[("x-amz-checksum-algorithm", "MD4")]).unwrap_err();
        assert_eq!(bad.code, S3ErrorCode::InvalidRequest);
    }

    #[test]
    fn copy_tagging_directives() {
        let src = ("x-amz-copy-source", "/b/k");
        let parse = |extra: &[(&'static str, &str)]| {
            let mut pairs = vec![src];
            pairs.extend_from_slice(extra);
            CopyObjectInput::parse(key("d"), &headers(&pairs))
        };
        let code = |extra: &[(&'static str, &str)]| parse(extra).unwrap_err().code;
        assert_eq!(parse(&[]).unwrap().tags, None);
        let copy = parse(&[("x-amz-tagging-directive", "COPY")]).unwrap();
        assert_eq!(copy.tags, None);
        let replace = parse(&[
            ("x-amz-tagging-directive", "replace"),
            ("x-amz-tagging", "a=1&b=2"),
        ])
        .unwrap();
        let tags = replace.tags.expect("REPLACE takes the request's tags");
        assert_eq!(tags.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
        let cleared = parse(&[("x-amz-tagging-directive", "REPLACE")]).unwrap();
        assert_eq!(cleared.tags, Some(TagSet::default()));
        // Tags beside COPY would be dropped: refused instead.
        assert_eq!(
            code(&[("x-amz-tagging", "a=1")]),
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(&[("x-amz-tagging-directive", "MOVE")]),
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(&[
                ("x-amz-tagging-directive", "REPLACE"),
                ("x-amz-tagging", "a=1&a=2")
            ]),
            S3ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn put_object_tags() {
        let put = |v: &str| PutObjectInput::parse(key("k"), &headers(&[("x-amz-tagging", v)]));
        let tags = put("Project=x&e=").unwrap().tags;
        assert_eq!(
            tags.iter().collect::<Vec<_>>(),
            [("Project", "x"), ("e", "")]
        );
        assert_eq!(put("aws:x=1").unwrap_err().code, S3ErrorCode::InvalidTag);
        let none = PutObjectInput::parse(key("k"), &HeaderMap::new()).unwrap();
        assert!(none.tags.is_empty());
        let mut raw = HeaderMap::new();
        raw.insert(
            "x-amz-tagging",
            http::HeaderValue::from_bytes(b"k=\xc3\xa9").unwrap(),
        );
        let err = PutObjectInput::parse(key("k"), &raw).unwrap_err();
        assert_eq!(err.code, S3ErrorCode::InvalidArgument);
    }
}
