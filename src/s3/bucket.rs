//! Bucket operations.

use http::{Response, StatusCode};

use super::input::{encode_token, ListBucketsInput};
use super::response::{self, iso8601};
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::{BucketConfig, ConfigSet, ResponseBody};
use crate::storage::{BucketRecord, StorageError};
use crate::types::BucketName;
use crate::xml;

type Res = Result<Response<ResponseBody>, S3Error>;

/// The region whose buckets answer as S3's legacy global endpoint does.
const US_EAST_1: &str = "us-east-1";

/// A page of the buckets the caller sees, in name order, after the
/// continuation token's name, filtered by prefix and region. The backend
/// hands over every bucket record in one read; the answer holds at most
/// `max-buckets` of them.
pub(crate) async fn list_buckets(cx: &mut RequestCx, input: ListBucketsInput) -> Res {
    let mut buckets = cx.storage().list_buckets().await?;
    let prefix = input.prefix.as_deref().unwrap_or("");
    buckets.retain(|b| {
        b.name.starts_with(prefix)
            && input.after.as_ref().is_none_or(|a| b.name > *a)
            && input.bucket_region.as_ref().is_none_or(|r| b.region == *r)
            && cx.principal.sees(b)
    });
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    let more = buckets.len() > input.max_buckets;
    buckets.truncate(input.max_buckets);
    let continuation_token = if more {
        buckets.last().map(|b| encode_token(&b.name))
    } else {
        None
    };
    response::xml(&xml::ListAllMyBucketsResult {
        xmlns: (),
        owner: cx.owner(),
        buckets: xml::BucketList {
            bucket: buckets
                .into_iter()
                .map(|b| xml::BucketEntry {
                    name: b.name,
                    creation_date: iso8601(b.created_ms),
                    region: b.region,
                })
                .collect(),
        },
        continuation_token,
        prefix: input.prefix,
    })
}

pub(crate) async fn create_bucket(cx: &mut RequestCx) -> Res {
    let name = BucketName::parse(cx.bucket_name()?)
        .ok_or_else(|| S3Error::code(S3ErrorCode::InvalidBucketName))?;
    let (body, _) = cx.read_small_body(64 * 1024).await?;
    let region = cx.state.config.region.clone();
    if !body.iter().all(u8::is_ascii_whitespace) {
        let text =
            std::str::from_utf8(&body).map_err(|_| S3Error::code(S3ErrorCode::MalformedXML))?;
        let conf: xml::CreateBucketConfiguration = xml::from_xml(text)
            .map_err(|e| S3Error::code(S3ErrorCode::MalformedXML).with_source(e))?;
        if let Some(lc) = conf.location_constraint.filter(|s| !s.is_empty()) {
            if lc != region {
                return Err(S3Error::new(
                    S3ErrorCode::IllegalLocationConstraintException,
                    format!("The {lc} location constraint is incompatible for the region specific endpoint this request was sent to ({region})."),
                ));
            }
        }
    }
    let record = BucketRecord::new(name.as_str(), &region, cx.principal.owner_key());
    match cx.storage().create_bucket(&record).await {
        Ok(()) => {}
        // The owner's re-create of a us-east-1 bucket answers 200 and
        // changes nothing (S3's legacy behaviour there); elsewhere it is
        // `BucketAlreadyOwnedByYou`. Either way the bucket is untouched.
        Err(StorageError::BucketExists(existing)) if existing.owner == record.owner => {
            if existing.region != US_EAST_1 {
                return Err(S3Error::code(S3ErrorCode::BucketAlreadyOwnedByYou));
            }
        }
        Err(StorageError::BucketExists(_)) => {
            return Err(S3Error::code(S3ErrorCode::BucketAlreadyExists))
        }
        Err(e) => return Err(e.into()),
    }
    let mut r = response::empty(StatusCode::OK);
    response::set(&mut r, "location", &format!("/{name}"));
    Ok(r)
}

pub(crate) async fn head_bucket(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    let mut r = response::empty(StatusCode::OK);
    response::set(&mut r, "x-amz-bucket-region", &bucket.region);
    Ok(r)
}

pub(crate) async fn delete_bucket(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    cx.storage().delete_bucket(&bucket).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

pub(crate) async fn get_bucket_location(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    // us-east-1 is reported as an empty constraint, as S3 does.
    let region = if bucket.region == US_EAST_1 {
        String::new()
    } else {
        bucket.region
    };
    response::xml(&xml::LocationConstraint { xmlns: (), region })
}

/// The bucket's ACL: the owner has full control.
pub(crate) fn owner_acl(cx: &RequestCx) -> xml::AccessControlPolicy {
    let o = cx.owner();
    xml::AccessControlPolicy {
        xmlns: (),
        owner: o.clone(),
        acl: xml::AccessControlList {
            grant: vec![xml::Grant {
                grantee: xml::Grantee {
                    xmlns_xsi: "http://www.w3.org/2001/XMLSchema-instance",
                    xsi_type: "CanonicalUser",
                    id: o.id,
                    display_name: o.display_name,
                },
                permission: "FULL_CONTROL",
            }],
        },
    }
}

/// Sub-resources that have a fixed answer: the default ACL and payer, an
/// empty document, an empty listing, or the "not configured" error S3
/// gives for an unset configuration.
pub(crate) async fn get_bucket_config(cx: &mut RequestCx, config: BucketConfig) -> Res {
    cx.bucket().await?;
    use S3ErrorCode as C;
    let empty = |root: &str| response::xml_root(root, &xml::EmptyConfiguration { xmlns: () });
    let none_listed = |root: &str| {
        let list = xml::EmptyConfigurationList {
            xmlns: (),
            is_truncated: false,
        };
        response::xml_root(root, &list)
    };
    let missing = match config {
        BucketConfig::Acl => return response::xml(&owner_acl(cx)),
        BucketConfig::RequestPayment => {
            return response::xml(&xml::RequestPaymentConfiguration {
                xmlns: (),
                payer: "BucketOwner",
            })
        }
        BucketConfig::Accelerate => return empty("AccelerateConfiguration"),
        BucketConfig::Logging => return empty("BucketLoggingStatus"),
        BucketConfig::Notification => return empty("NotificationConfiguration"),
        BucketConfig::List(set) => {
            return none_listed(match set {
                ConfigSet::Analytics => "ListBucketAnalyticsConfigurationResult",
                ConfigSet::IntelligentTiering => "ListBucketIntelligentTieringConfigurationsOutput",
                ConfigSet::Inventory => "ListInventoryConfigurationsResult",
                ConfigSet::Metrics => "ListMetricsConfigurationsResult",
            })
        }
        BucketConfig::One(_) => C::NoSuchConfiguration,
        BucketConfig::Encryption => C::ServerSideEncryptionConfigurationNotFoundError,
        BucketConfig::ObjectLock => C::ObjectLockConfigurationNotFoundError,
        BucketConfig::OwnershipControls => C::OwnershipControlsNotFoundError,
        BucketConfig::PublicAccessBlock => C::NoSuchPublicAccessBlockConfiguration,
        BucketConfig::Replication => C::ReplicationConfigurationNotFoundError,
        BucketConfig::Website => C::NoSuchWebsiteConfiguration,
    };
    Err(S3Error::code(missing))
}
