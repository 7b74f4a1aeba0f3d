"""The sealbox fixture, its reset between tests, and the boto3 clients it gives."""
import os
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import SEEDED_KEY, fetch, multipart


def key_ids(kms):
    return [k["KeyId"] for k in kms.list_keys()["Keys"]]


class TestReset:
    """In file order: each test starts from the seed, whatever the one before it left."""

    def test_a_leaves_a_key_a_bucket_and_an_advanced_clock(self, sealbox, sealbox_kms, sealbox_s3):
        sealbox_kms.create_key(Description="left behind")
        sealbox_s3.create_bucket(Bucket="left-behind")
        sealbox.advance(3600)
        assert len(key_ids(sealbox_kms)) == 2

    def test_b_starts_from_the_seed(self, sealbox, sealbox_kms, sealbox_s3):
        assert key_ids(sealbox_kms) == [SEEDED_KEY]
        assert sealbox_s3.list_buckets()["Buckets"] == []
        assert sealbox.clock()["offsetSeconds"] == 0
        sealbox_kms.create_key(Description="kept for the next test")

    @pytest.mark.sealbox_no_reset
    def test_c_marked_keeps_what_b_left(self, sealbox_kms):
        assert len(key_ids(sealbox_kms)) == 2


def test_clients_encrypt_and_store_with_sse_kms(sealbox, sealbox_kms, sealbox_s3, bucket):
    assert sealbox_kms.meta.endpoint_url == sealbox.kms_url
    assert sealbox_kms.meta.region_name == "us-east-1"
    blob = sealbox_kms.encrypt(KeyId="alias/seeded", Plaintext=b"secret")["CiphertextBlob"]
    assert sealbox_kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    sealbox_s3.put_object(Bucket=bucket, Key="k", Body=b"data", ServerSideEncryption="aws:kms", SSEKMSKeyId=SEEDED_KEY)
    got = sealbox_s3.get_object(Bucket=bucket, Key="k")
    assert (got["Body"].read(), got["SSEKMSKeyId"]) == (b"data", f"arn:aws:kms:us-east-1:000000000000:key/{SEEDED_KEY}")


def test_s3_is_path_style(sealbox, sealbox_s3, bucket):
    url = sealbox_s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    assert url.startswith(f"{sealbox.s3_url}/{bucket}/k?")


def test_presigned_urls_are_sigv4(sealbox_s3, bucket):
    sealbox_s3.put_object(Bucket=bucket, Key="k", Body=b"presigned")
    url = sealbox_s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=600)
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    assert fetch(url) == (200, b"presigned")
    put = sealbox_s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"})
    assert fetch(put, data=b"uploaded", method="PUT")[0] == 200
    assert sealbox_s3.get_object(Bucket=bucket, Key="up")["Body"].read() == b"uploaded"


def test_presigned_post_forms_are_sigv4(sealbox_s3, bucket):
    form = sealbox_s3.generate_presigned_post(bucket, "posted", ExpiresIn=600)
    assert form["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    body, content_type = multipart(form["fields"], b"from a form")
    status, _ = fetch(form["url"], data=body, headers={"Content-Type": content_type}, method="POST")
    assert status == 204
    assert sealbox_s3.get_object(Bucket=bucket, Key="posted")["Body"].read() == b"from a form"


def test_advance_expires_a_presigned_url_at_once(sealbox, sealbox_s3, bucket):
    sealbox_s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = sealbox_s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=3600)
    before = sealbox.now()
    assert sealbox.advance(7200)["offsetSeconds"] == 7200
    assert sealbox.now() - before >= timedelta(seconds=7200)
    status, body = fetch(url)
    assert status == 403 and b"<Message>Request has expired</Message>" in body
    # The clients sign on the new timeline: they keep working.
    assert sealbox_s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_advance_runs_a_due_key_deletion(sealbox, sealbox_kms):
    key = sealbox_kms.create_key()["KeyMetadata"]["KeyId"]
    sealbox_kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    sealbox.advance(8 * 86400)
    with pytest.raises(ClientError) as gone:
        sealbox_kms.describe_key(KeyId=key)
    assert gone.value.response["Error"]["Code"] == "NotFoundException"


def test_snapshots_save_restore_list_and_delete(sealbox, sealbox_kms):
    kept = sealbox_kms.create_key()["KeyMetadata"]["KeyId"]
    saved = sealbox.snapshot("fixture")
    assert saved["name"] == "fixture" and saved["bytes"] > 0
    sealbox_kms.create_key()
    sealbox.restore("fixture")
    assert sorted(key_ids(sealbox_kms)) == sorted([SEEDED_KEY, kept])
    assert [s["name"] for s in sealbox.snapshots()] == ["fixture"]
    sealbox.delete_snapshot("fixture")
    assert sealbox.snapshots() == []


def test_session_for_a_seeded_identity(sealbox, sealbox_session):
    alice = sealbox_session("AKIAALICE", "alice-secret")
    assert isinstance(alice, boto3.session.Session)
    kms = alice.client("kms")
    key = kms.create_key()["KeyMetadata"]
    assert key["Arn"].startswith("arn:aws:kms:us-east-1:111122223333:key/")
    alice.client("s3").create_bucket(Bucket="alices")
    assert [b.name for b in alice.resource("s3").buckets.all()] == ["alices"]
    # Another account: the default one sees none of it.
    assert "alices" not in [b["Name"] for b in sealbox.s3.list_buckets()["Buckets"]]
    wrong = sealbox_session("AKIAALICE", "not-her-secret").client("kms")
    with pytest.raises(ClientError) as refused:
        wrong.list_keys()
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_a_client_config_is_merged_with_sealboxs(sealbox):
    s3 = sealbox.client("s3", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    assert s3.meta.config.s3["addressing_style"] == "path"
    assert s3.meta.config.signature_version == "s3v4"
    assert s3.meta.config.retries["total_max_attempts"] == 1


def test_cloudtrail_lookup_events_on_the_kms_port(sealbox, sealbox_kms):
    sealbox_kms.create_key(Description="looked up")
    events = sealbox.client("cloudtrail").lookup_events()["Events"]
    assert "CreateKey" in [e["EventName"] for e in events]


def test_sealbox_env_points_code_that_makes_its_own_clients(sealbox_env, monkeypatch):
    assert os.environ["AWS_ENDPOINT_URL_KMS"] == sealbox_env.kms_url
    kms = boto3.client("kms")
    assert [k["KeyId"] for k in kms.list_keys()["Keys"]] == [SEEDED_KEY]
    boto3.client("s3").create_bucket(Bucket="from-env")
    assert [b["Name"] for b in sealbox_env.s3.list_buckets()["Buckets"]] == ["from-env"]


def test_admin_errors_carry_status_and_body(sealbox):
    from pytest_sealbox import SealboxError

    with pytest.raises(SealboxError) as missing:
        sealbox.restore("never-saved")
    assert missing.value.status == 404
