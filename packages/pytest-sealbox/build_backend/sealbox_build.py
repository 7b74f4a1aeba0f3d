"""A PEP 517 build backend in the standard library only, so `pip install ./packages/pytest-sealbox`
fetches nothing from a package index (setuptools would need `wheel` from PyPI to build a wheel).
It packs src/pytest_sealbox into a pure-Python wheel, or the whole directory into an sdist."""
import base64
import hashlib
import io
import os
import tarfile
import zipfile

NAME, VERSION = "pytest_sealbox", "0.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST_INFO = f"{NAME}-{VERSION}.dist-info"


def _metadata():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return (
        "Metadata-Version: 2.1\nName: pytest-sealbox\nVersion: " + VERSION + "\n"
        "Summary: A pytest plugin for Sealbox, a local AWS KMS and Amazon S3\n"
        "License: Apache-2.0\nRequires-Python: >=3.8\nRequires-Dist: pytest>=7\nRequires-Dist: boto3\n"
        "Classifier: Framework :: Pytest\nDescription-Content-Type: text/markdown\n\n" + readme
    )


def _files():
    """(archive name, bytes) of the wheel's contents."""
    package = os.path.join(ROOT, "src", NAME)
    for name in sorted(os.listdir(package)):
        if name.endswith(".py") or name == "py.typed":
            with open(os.path.join(package, name), "rb") as f:
                yield f"{NAME}/{name}", f.read()
    yield f"{DIST_INFO}/METADATA", _metadata().encode()
    yield f"{DIST_INFO}/WHEEL", b"Wheel-Version: 1.0\nGenerator: sealbox_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    yield f"{DIST_INFO}/entry_points.txt", b"[pytest11]\npytest_sealbox = pytest_sealbox\n"
    with open(os.path.join(ROOT, "LICENSE"), "rb") as f:
        yield f"{DIST_INFO}/LICENSE", f.read()


def _wheel(wheel_directory):
    filename = f"{NAME}-{VERSION}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in _files():
            wheel.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
        record.append(f"{DIST_INFO}/RECORD,,")
        wheel.writestr(f"{DIST_INFO}/RECORD", "\n".join(record) + "\n")
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_sdist = get_requires_for_build_editable = get_requires_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory)


# An "editable" install is a plain copy: there is nothing to compile, reinstall after a change.
build_editable = build_wheel


def build_sdist(sdist_directory, config_settings=None):
    base = f"{NAME}-{VERSION}"
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as sdist:
        for path in ["pyproject.toml", "README.md", "LICENSE", "build_backend", "src", "tests"]:
            sdist.add(os.path.join(ROOT, path), f"{base}/{path}", filter=lambda t: None if "__pycache__" in t.name else t)
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        sdist.addfile(info, io.BytesIO(data))
    return filename
