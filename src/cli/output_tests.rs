//! Each printer on a fixed answer of the admin API, in the contract's shapes.

use serde_json::json;

use super::*;

fn key(id: &str, name: &str, create_bucket: bool, admin: bool) -> Value {
    json!({"access_key_id": id, "name": name, "created": "2026-12-03T10:00:00Z",
           "create_bucket": create_bucket, "admin": admin})
}

#[test]
fn a_created_key_is_two_env_lines() {
    let mut answer = key("S3GW1A2B3C4D5E6F7G8H", "backup", false, false);
    answer["secret_access_key"] = json!("s3cr3t/abc+def");
    assert_eq!(
        created_key(&answer).unwrap(),
        "AWS_ACCESS_KEY_ID=S3GW1A2B3C4D5E6F7G8H\nAWS_SECRET_ACCESS_KEY=s3cr3t/abc+def\n"
    );
    let e = created_key(&key("S3GW1A2B3C4D5E6F7G8H", "backup", false, false)).unwrap_err();
    assert!(e.contains("secret_access_key"), "{e}");
    let shown = json(&answer);
    let back: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(back, answer, "--json prints the server's object as is");
    assert!(shown.ends_with("}\n"));
}

#[test]
fn keys_are_a_table() {
    let answer = json!({"keys": [
        key("S3GW1A2B3C4D5E6F7G8H", "backup", false, false),
        key("S3GWADMIN00000000000", "ops", true, true),
    ]});
    assert_eq!(
        key_list(&answer),
        "ACCESS_KEY_ID         NAME    CREATED               CREATE_BUCKET  ADMIN\n\
         S3GW1A2B3C4D5E6F7G8H  backup  2026-12-03T10:00:00Z  no             no\n\
         S3GWADMIN00000000000  ops     2026-12-03T10:00:00Z  yes            yes\n"
    );
    assert_eq!(
        key_list(&json!({"keys": []})),
        "ACCESS_KEY_ID  NAME  CREATED  CREATE_BUCKET  ADMIN\n"
    );
}

#[test]
fn key_info_lists_its_buckets() {
    let mut answer = key("S3GW1A2B3C4D5E6F7G8H", "backup", false, true);
    answer["buckets"] = json!([
        {"bucket": "photos", "read": true, "write": false, "owner": false},
        {"bucket": "b", "read": true, "write": true, "owner": true},
    ]);
    assert_eq!(
        key_info(&answer),
        "access key id:  S3GW1A2B3C4D5E6F7G8H\n\
         name:           backup\n\
         created:        2026-12-03T10:00:00Z\n\
         create bucket:  no\n\
         admin:          yes\n\
         buckets:\n\
         \x20 BUCKET  READ  WRITE  OWNER\n\
         \x20 photos  yes   no     no\n\
         \x20 b       yes   yes    yes\n"
    );
    answer["buckets"] = json!([]);
    assert!(key_info(&answer).ends_with("admin:          yes\nbuckets: none\n"));
}

#[test]
fn bucket_info_shows_grants_size_and_policy() {
    let answer = json!({
        "bucket": "b", "created": "2026-12-03T10:00:00Z", "owner": "root",
        "grants": [
            {"access_key_id": "S3GW1A2B3C4D5E6F7G8H", "name": "backup", "read": true, "write": true, "owner": false},
            {"access_key_id": "S3GWGONE000000000000", "name": null, "read": true, "write": false, "owner": false},
        ],
        "policy": {"Version": "2012-10-17", "Statement": []},
        "objects": 12, "bytes": 12345,
    });
    assert_eq!(
        bucket_info(&answer),
        "bucket:   b\n\
         created:  2026-12-03T10:00:00Z\n\
         owner:    root\n\
         objects:  12\n\
         bytes:    12345 (12.1 KiB)\n\
         grants:\n\
         \x20 ACCESS_KEY_ID         NAME           READ  WRITE  OWNER\n\
         \x20 S3GW1A2B3C4D5E6F7G8H  backup         yes   yes    no\n\
         \x20 S3GWGONE000000000000  (key deleted)  yes   no     no\n\
         policy:\n\
         \x20 {\n\
         \x20   \"Statement\": [],\n\
         \x20   \"Version\": \"2012-10-17\"\n\
         \x20 }\n"
    );
    let bare = json!({"bucket": "e", "created": "2026-12-03T10:00:00Z", "owner": "S3GW1A2B3C4D5E6F7G8H",
                      "grants": [], "policy": null, "objects": 0, "bytes": 0});
    assert_eq!(
        bucket_info(&bare),
        "bucket:   e\ncreated:  2026-12-03T10:00:00Z\nowner:    S3GW1A2B3C4D5E6F7G8H\n\
         objects:  0\nbytes:    0\ngrants: none\npolicy: none\n"
    );
}

#[test]
fn sizes_and_missing_fields() {
    assert_eq!(bytes(Some(&json!(1023))), "1023");
    assert_eq!(bytes(Some(&json!(1024))), "1024 (1.0 KiB)");
    assert_eq!(bytes(Some(&json!(5_u64 << 30))), "5368709120 (5.0 GiB)");
    assert_eq!(
        bytes(Some(&json!(u64::MAX))),
        "18446744073709551615 (16384.0 PiB)"
    );
    assert_eq!(bytes(None), "-");
    let partial = json!({"bucket": "b"});
    assert!(bucket_info(&partial).contains("owner:    -\n"));
    assert_eq!(deleted_key("K1"), "deleted key K1\n");
}
