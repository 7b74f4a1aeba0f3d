"""sealbox.explain(request_id) and sealbox.requests(): why a call was denied, from a test."""
import json

import pytest
from botocore.exceptions import ClientError


def test_explain_names_the_deciding_statement(sealbox, sealbox_kms):
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "NoEncrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "kms:*", "Resource": "*"},
        ],
    }
    key = sealbox_kms.create_key(Policy=json.dumps(policy), BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as denied:
        sealbox_kms.encrypt(KeyId=key, Plaintext=b"x")
    request_id = denied.value.response["ResponseMetadata"]["RequestId"]
    record = sealbox.explain(request_id)
    assert record["operation"] == "Encrypt"
    assert record["decisions"][0]["reason"]["text"] == "explicit deny in statement 'NoEncrypt' of the key policy"
    failed = sealbox.requests("kms", failed=True)
    assert failed[0]["requestId"] == request_id and failed[0]["decision"] == "Deny"
    assert sealbox.explain("0123456789ABCDEF") is None
