import urllib.error
import urllib.request
import uuid

import pytest

SEEDED_KEY = "0e1f3c4d-8a7b-4c2d-9e10-3f2a1b0c9d8e"


def fetch(url, data=None, headers=None, method=None):
    """(status, body) of a plain HTTP request, errors included; never through a proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def multipart(fields, file_bytes):
    """A multipart/form-data body as a browser posts an S3 POST form: the fields, then the file."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\nContent-Type: text/plain\r\n\r\n'.encode() + file_bytes + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def bucket(sealbox_s3):
    sealbox_s3.create_bucket(Bucket="plugin")
    return "plugin"
