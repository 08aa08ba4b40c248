//! The owners S3 answers name (ListBuckets, listings with `fetch-owner`,
//! ACLs, `x-amz-expected-bucket-owner`): per key. A bucket is owned by the
//! key that created it, or by the root pair; its objects are owned by the
//! bucket's owner, as on AWS with the default `BucketOwnerEnforced`.

use crate::access::Principal;
use crate::state::AppState;
use crate::storage::BucketRecord;
use crate::xml;

/// The owner of what the key `key_id` created: its id (lower-cased, as
/// S3's canonical ids are) and its name; the root pair for an empty id.
fn of_key(state: &AppState, key_id: &str) -> xml::Owner {
    if key_id.is_empty() {
        return xml::Owner {
            id: state.owner_id(),
            display_name: state.root_access_key.clone(),
        };
    }
    let name = state
        .keys
        .all()
        .get(key_id)
        .map_or_else(|| key_id.to_owned(), |k| k.name.clone());
    xml::Owner {
        id: key_id.to_ascii_lowercase(),
        display_name: name,
    }
}

/// The owner of `bucket` and of every object in it.
pub(crate) fn bucket_owner(state: &AppState, bucket: &BucketRecord) -> xml::Owner {
    of_key(state, &bucket.owner)
}

/// The principal as an owner (ListBuckets' `Owner`).
pub(crate) fn principal_owner(state: &AppState, principal: &Principal) -> xml::Owner {
    of_key(state, principal.owner_key())
}
