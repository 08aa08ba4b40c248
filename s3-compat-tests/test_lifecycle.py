"""Bucket lifecycle configuration with real clients: boto3, aws cli v2 and v1 (s3api).

PutBucketLifecycleConfiguration / GetBucketLifecycleConfiguration /
DeleteBucketLifecycle round trips and S3's refusals, the `x-amz-expiration`
answer header, and, when the gateway runs with a short lifecycle day
(`S3GW_LIFECYCLE_DAY_SECS=2`), the rules applied by its background worker:
expiry of current versions (a delete or a delete marker), of noncurrent versions
beyond NewerNoncurrentVersions, of lone delete markers, and the abort of
incomplete multipart uploads. With a real day that last part skips.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

# Fixtures (aws: cli v2 and v1; vbucket: emptied of all versions) and helpers.
from test_versioning import (  # noqa: F401
    all_versions, aws, err_code, http_status, set_versioning, vbucket)

DAY = 86400
WAIT_S = 60  # longest wait for the worker with a short day
UTC = timezone.utc

RULES = [
    {"ID": "logs: big and tagged", "Status": "Enabled", "Expiration": {"Days": 30},
     "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "class", "Value": "tmp"}],
                        "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 1000000}}},
    {"ID": "tagged", "Status": "Enabled", "Filter": {"Tag": {"Key": "keep", "Value": "no"}},
     "Expiration": {"Date": datetime(2031, 1, 1, tzinfo=UTC)}},
    {"ID": "everything", "Status": "Enabled", "Filter": {"Prefix": ""},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 3},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
    {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "old/"}, "Expiration": {"Days": 1}},
    {"ID": "markers", "Status": "Enabled", "Filter": {"Prefix": "m/"},
     "Expiration": {"ExpiredObjectDeleteMarker": True}},
    {"ID": "no filter", "Status": "Enabled", "Filter": {},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 9}},
]


def rule(rule_id: str, prefix: str = "", **actions) -> dict:
    return {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": prefix}, **actions}


def put_rules(client, bucket: str, rules: list) -> None:
    client.put_bucket_lifecycle_configuration(Bucket=bucket,
                                              LifecycleConfiguration={"Rules": rules})


def get_rules(client, bucket: str) -> list:
    return client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]


def refusal(call, **kw) -> tuple:
    """(HTTP status, error code) of a call that must fail."""
    with pytest.raises(ClientError) as ei:
        call(**kw)
    return http_status(ei.value), err_code(ei.value)


EXPIRATION = re.compile(r'expiry-date="([^"]+)", rule-id="([^"]*)"')


def expiration(resp: dict):
    """(due time, rule id) from x-amz-expiration (boto3's `Expiration`), or None."""
    value = resp.get("Expiration")
    if value is None:
        return None
    m = EXPIRATION.fullmatch(value)
    assert m, f"x-amz-expiration not in S3's form: {value!r}"
    return parsedate_to_datetime(m[1]), unquote(m[2])


def real_day_due(created: datetime, days: int) -> datetime:
    """S3's due time with 24 h days: creation + days, rounded up to the next midnight UTC."""
    t = int(created.timestamp())
    return datetime.fromtimestamp((t + (days + 1) * DAY) // DAY * DAY, UTC)


def skip_unless_short_day(head: dict) -> None:
    """Skip unless the x-amz-expiration of an object just written under a Days=1 rule is
    due within 120 s of its LastModified (both the server's clock)."""
    got = expiration(head)
    assert got, f"no x-amz-expiration for an object a Days=1 rule selects: {head}"
    left = (got[0] - head["LastModified"]).total_seconds()
    if left > 120:
        pytest.skip(f"the gateway's lifecycle day is a real day (Days=1 due {left:.0f} s after "
                    f"the write); start it with S3GW_LIFECYCLE_DAY_SECS=2 to see rules applied")
    assert left > 0, head["Expiration"]


def wait_until(observe, want, what: str) -> float:
    """Poll observe() every 0.5 s until it returns want; fail after WAIT_S with the last answer."""
    start = time.monotonic()
    while True:
        got = observe()
        if got == want or time.monotonic() - start > WAIT_S:
            break
        time.sleep(0.5)
    assert got == want, f"{what}: not reached within {WAIT_S} s; last seen {got}"
    return time.monotonic() - start


# ----------------------------------------------------------------- boto3


def test_lifecycle_round_trip_and_refusals(s3, bucket):
    """Rules of every filter form and action read back exactly (an empty prefix stays an
    empty `<Prefix/>`, an empty filter `<Filter/>`); a transition (501 NotImplemented)
    and S3's refusals of bad rules leave the stored rules as they were; delete, then
    404 NoSuchLifecycleConfiguration."""
    assert refusal(s3.get_bucket_lifecycle_configuration, Bucket=bucket) == \
        (404, "NoSuchLifecycleConfiguration")
    put_rules(s3, bucket, RULES)
    assert get_rules(s3, bucket) == RULES

    transition = rule("archive", Transitions=[{"Days": 30, "StorageClass": "GLACIER"}])
    noncurrent_transition = rule("archive old", NoncurrentVersionTransitions=[
        {"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"}])
    days = {"Expiration": {"Days": 1}}
    cases = [
        ([transition], (501, "NotImplemented")),
        ([rule("ok", **days), noncurrent_transition], (501, "NotImplemented")),
        ([rule("zero", Expiration={"Days": 0})], (400, "InvalidArgument")),
        ([rule("twice", "a/", **days), rule("twice", "b/", **days)], (400, "InvalidArgument")),
        ([rule("both", Expiration={"Days": 1, "ExpiredObjectDeleteMarker": True})],
         (400, "MalformedXML")),
        ([rule("idle")], (400, "InvalidRequest")),
    ]
    for rules, want in cases:
        got = refusal(s3.put_bucket_lifecycle_configuration, Bucket=bucket,
                      LifecycleConfiguration={"Rules": rules})
        assert got == want, rules
        assert get_rules(s3, bucket) == RULES, f"changed by a refused {rules}"

    # A new configuration replaces the old one whole.
    put_rules(s3, bucket, [rule("only", "x/", **days)])
    assert get_rules(s3, bucket) == [rule("only", "x/", **days)]

    r = s3.delete_bucket_lifecycle(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert refusal(s3.get_bucket_lifecycle_configuration, Bucket=bucket) == \
        (404, "NoSuchLifecycleConfiguration")
    # Deleting when there is none is no error (204, as S3 answers).
    r = s3.delete_bucket_lifecycle(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_expiration_header(s3d, bucket):
    """x-amz-expiration on PUT, GET and HEAD names the first enabled rule that selects
    the object (rule-id URL-encoded); absent for objects only a disabled rule or no rule
    selects, and for an object without the rule's tag."""
    put_rules(s3d, bucket, [
        rule("logs expire/1", "logs/", Expiration={"Days": 3}),
        rule("tagged", Filter={"Tag": {"Key": "keep", "Value": "no"}},
             Expiration={"Date": datetime(2031, 1, 1, tzinfo=UTC)}),
        {**rule("off"), "Status": "Disabled", "Expiration": {"Days": 1}},
    ])
    put = s3d.put_object(Bucket=bucket, Key="logs/a", Body=b"log line")
    head = s3d.head_object(Bucket=bucket, Key="logs/a")
    get = s3d.get_object(Bucket=bucket, Key="logs/a")
    assert "rule-id=\"logs%20expire%2F1\"" in head.get("Expiration", ""), head.get("Expiration")
    due, rule_id = expiration(head)
    assert rule_id == "logs expire/1"
    assert expiration(put) == expiration(get) == (due, rule_id), (put, get)
    created = head["LastModified"]
    assert created < due <= created + timedelta(days=4), (created, due)
    if (due - created).total_seconds() > 120:  # a real day: S3's exact due time
        assert due == real_day_due(created, 3), (created, due)

    s3d.put_object(Bucket=bucket, Key="doc", Body=b"t", Tagging="keep=no")
    assert expiration(s3d.head_object(Bucket=bucket, Key="doc")) == \
        (datetime(2031, 1, 1, tzinfo=UTC), "tagged")
    for key in ["doc", "other/b"]:  # wrong tag value; only the disabled rule selects it
        put = s3d.put_object(Bucket=bucket, Key=key, Body=b"x", Tagging="keep=yes")
        assert "Expiration" not in put, put
        assert "Expiration" not in s3d.head_object(Bucket=bucket, Key=key), key
        assert "Expiration" not in s3d.get_object(Bucket=bucket, Key=key), key


# ----------------------------------------------------------------- aws cli


def test_awscli_s3api_lifecycle(aws, admin, bucket, tmp_path):
    """put-bucket-lifecycle-configuration from a file, get-bucket-lifecycle-configuration,
    delete-bucket-lifecycle; each checked through boto3 too."""
    rules = [
        {"ID": "cli logs", "Status": "Enabled", "Expiration": {"Days": 10},
         "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "a", "Value": "b"}],
                            "ObjectSizeLessThan": 4096}}},
        {"ID": "cli all", "Status": "Enabled", "Filter": {"Prefix": ""},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 5, "NewerNoncurrentVersions": 2},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        {"ID": "cli size", "Status": "Disabled", "Filter": {"ObjectSizeGreaterThan": 1048576},
         "Expiration": {"Days": 400}},
    ]
    doc = tmp_path / "lifecycle.json"
    doc.write_text(json.dumps({"Rules": rules}))
    aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
        "--lifecycle-configuration", f"file://{doc}")
    assert get_rules(admin, bucket) == rules
    got = aws.json("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert got.get("Rules") == rules, got

    aws("s3api", "delete-bucket-lifecycle", "--bucket", bucket)
    assert refusal(admin.get_bucket_lifecycle_configuration, Bucket=bucket) == \
        (404, "NoSuchLifecycleConfiguration")
    r = aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket, check=False)
    assert r.returncode != 0 and "NoSuchLifecycleConfiguration" in r.stderr, r.stderr


# ----------------------------------------------------------------- rules applied


def test_expiry_applied_unversioned(s3d, bucket):
    """Short day only: a Days=1 rule deletes the object it selects, an
    AbortIncompleteMultipartUpload rule aborts the upload under its prefix; an object
    and an upload outside the rules stay."""
    put_rules(s3d, bucket, [
        rule("expire tmp", "tmp/", Expiration={"Days": 1}),
        rule("abort uploads", "mp/", AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}),
    ])
    s3d.put_object(Bucket=bucket, Key="tmp/a", Body=b"short lived")
    skip_unless_short_day(s3d.head_object(Bucket=bucket, Key="tmp/a"))
    s3d.put_object(Bucket=bucket, Key="keep/b", Body=b"stays")
    uploads = {}
    for key in ["mp/u1", "keep/u2"]:
        uploads[key] = s3d.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        s3d.upload_part(Bucket=bucket, Key=key, UploadId=uploads[key], PartNumber=1, Body=b"p")

    def observe():
        objects = s3d.list_objects_v2(Bucket=bucket).get("Contents", [])
        open_uploads = s3d.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return ([o["Key"] for o in objects],
                [(u["Key"], u["UploadId"]) for u in open_uploads])

    assert observe() == (["keep/b", "tmp/a"], sorted(uploads.items()))
    wait_until(observe, (["keep/b"], [("keep/u2", uploads["keep/u2"])]),
               "tmp/a deleted and mp/u1 aborted")
    assert refusal(s3d.get_object, Bucket=bucket, Key="tmp/a") == (404, "NoSuchKey")
    assert refusal(s3d.list_parts, Bucket=bucket, Key="mp/u1", UploadId=uploads["mp/u1"]) == \
        (404, "NoSuchUpload")
    assert s3d.get_object(Bucket=bucket, Key="keep/b")["Body"].read() == b"stays"


def test_expiry_applied_versioned(s3d, vbucket):
    """Short day only, versioned bucket: a Days=1 rule puts a delete marker over the
    current version (which stays readable by id); NoncurrentDays=1 with
    NewerNoncurrentVersions=1 deletes all noncurrent versions but the newest; a lone
    delete marker under an ExpiredObjectDeleteMarker rule is removed."""
    set_versioning(s3d, vbucket, "Enabled")
    put_rules(s3d, vbucket, [
        rule("expire current", "cur/", Expiration={"Days": 1}),
        rule("trim noncurrent", "nc/",
             NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}),
        rule("lone markers", "edm/", Expiration={"ExpiredObjectDeleteMarker": True}),
    ])
    cur = s3d.put_object(Bucket=vbucket, Key="cur/k", Body=b"current")["VersionId"]
    skip_unless_short_day(s3d.head_object(Bucket=vbucket, Key="cur/k"))
    nc = [s3d.put_object(Bucket=vbucket, Key="nc/k", Body=b"v%d" % i)["VersionId"]
          for i in range(4)]
    ghost = s3d.delete_object(Bucket=vbucket, Key="edm/ghost")["VersionId"]

    def observe():
        return sorted((k, v, m, latest) for k, v, m, latest in all_versions(s3d, vbucket)
                      if k != "cur/k" or v == cur)

    assert observe() == sorted([("cur/k", cur, False, True), ("edm/ghost", ghost, True, True)]
                               + [("nc/k", v, False, v == nc[-1]) for v in nc])
    wait_until(observe, sorted([("cur/k", cur, False, False), ("nc/k", nc[-1], False, True),
                                ("nc/k", nc[-2], False, False)]),
               "marker over cur/k, nc/k trimmed to 1 noncurrent, edm/ghost gone")
    markers = [(v, latest) for k, v, m, latest in all_versions(s3d, vbucket) if k == "cur/k" and m]
    assert len(markers) == 1 and markers[0][1] is True, markers
    assert refusal(s3d.get_object, Bucket=vbucket, Key="cur/k") == (404, "NoSuchKey")
    assert s3d.get_object(Bucket=vbucket, Key="cur/k", VersionId=cur)["Body"].read() == b"current"
    assert s3d.get_object(Bucket=vbucket, Key="nc/k", VersionId=nc[-2])["Body"].read() == b"v2"
    assert refusal(s3d.get_object, Bucket=vbucket, Key="nc/k", VersionId=nc[0]) == \
        (404, "NoSuchVersion")
