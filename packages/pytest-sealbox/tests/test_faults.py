"""Fault rules through the fixture: AWS's errors as boto3 sees them, and the event log's marks."""
import json

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import SEEDED_KEY


def no_retries(sealbox, service):
    return sealbox.client(service, config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def test_a_kms_throttle_for_the_next_call(sealbox):
    kms = no_retries(sealbox, "kms")
    rule = sealbox.add_fault(service="kms", operation="Encrypt", error="ThrottlingException", count=1)
    assert rule["id"] and rule["remaining"] == 1
    with pytest.raises(ClientError) as throttled:
        kms.encrypt(KeyId=SEEDED_KEY, Plaintext=b"x")
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert kms.encrypt(KeyId=SEEDED_KEY, Plaintext=b"x")["KeyId"].endswith(SEEDED_KEY)
    assert sealbox.faults() == []


def test_rules_listed_removed_and_cleared(sealbox):
    first = sealbox.add_fault({"service": "kms", "operation": "Decrypt"}, error="KMSInternalException")
    second, third = sealbox.add_faults([
        {"service": "s3", "operation": "PutObject", "error": "SlowDown"},
        {"service": "kms", "latencyMs": 10},
    ])
    assert [r["id"] for r in sealbox.faults()] == [first["id"], second["id"], third["id"]]
    sealbox.remove_fault(first["id"])
    assert [r["id"] for r in sealbox.faults()] == [second["id"], third["id"]]
    sealbox.clear_faults()
    assert sealbox.faults() == []


def test_a_rule_the_model_refuses(sealbox):
    from pytest_sealbox import SealboxError

    with pytest.raises(SealboxError) as refused:
        sealbox.add_fault(service="kms", operation="DescribeKey", error="KMSInvalidStateException")
    assert refused.value.status == 400
    assert "DescribeKey does not return KMSInvalidStateException" in refused.value.body


def test_a_fault_for_a_with_block(sealbox, sealbox_s3, bucket):
    s3 = no_retries(sealbox, "s3")
    with sealbox.fault(service="s3", operation="PutObject", bucket=bucket, error="SlowDown") as rule:
        with pytest.raises(ClientError) as slow:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        assert slow.value.response["Error"]["Code"] == "SlowDown"
        assert slow.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert slow.value.response["ResponseMetadata"]["HTTPHeaders"]["x-sealbox-injected-fault"] == rule["id"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    # A rule with a count may be used up before the block ends.
    with sealbox.fault(service="s3", operation="GetObject", error="InternalError", count=1):
        with pytest.raises(ClientError):
            s3.get_object(Bucket=bucket, Key="k")


def test_the_reset_clears_rules(sealbox):
    sealbox.add_fault(service="kms", error="KMSInternalException")
    sealbox.reset()
    assert sealbox.faults() == []


def test_a_throttled_generate_data_key_seen_through_an_sse_kms_put(sealbox, bucket):
    """Two throttled GenerateDataKey calls: S3 answers 503 SlowDown, boto3's standard retries get the
    PUT through on its third attempt, and the event log shows the three calls S3 made."""
    s3 = sealbox.client("s3", config=Config(retries={"total_max_attempts": 3, "mode": "standard"}))
    rule = sealbox.add_fault(service="kms", operation="GenerateDataKey", error="ThrottlingException", count=2)
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=SEEDED_KEY)
    assert put["ResponseMetadata"]["RetryAttempts"] == 2
    events = sealbox.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GenerateDataKey"}]
    )["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    # Whole-second eventTimes cannot order three calls made within one second: compared as a set.
    seen = sorted((r.get("errorCode") or "", r.get("additionalEventData", {}).get("sealboxInjectedFault", {}).get("ruleId") or "") for r in records)
    assert seen == [("", ""), ("ThrottlingException", rule["id"]), ("ThrottlingException", rule["id"])]
    assert all(r["userIdentity"]["invokedBy"] == "s3.amazonaws.com" for r in records)
