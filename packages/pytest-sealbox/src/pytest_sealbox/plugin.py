"""The pytest plugin (entry point `pytest11`): options, the `sealbox` fixture and its helpers."""
from __future__ import annotations

import atexit
import os
import shlex
from typing import Any, Callable, Iterator, Optional

import pytest

from .sandbox import Sealbox, SealboxSession, find_command, start_sealbox

NO_RESET_MARKER = "sealbox_no_reset"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sealbox", "Sealbox (local AWS KMS and S3)")

    def add(name: str, help: str, kind: Optional[str] = None, **kwargs: Any) -> None:
        group.addoption("--" + name.replace("_", "-"), dest=name, help=help + f" (ini: {name})", **kwargs)
        parser.addini(name, help, type=kind, default=None)

    add("sealbox_command", "the command that runs Sealbox's CLI, e.g. 'node path/to/bin.js' (default: $SEALBOX_COMMAND, sealbox on PATH, npx sealbox)", metavar="COMMAND")
    add("sealbox_seed", "a seed file (YAML or JSON) passed to sealbox start --seed; a reset returns to it", metavar="FILE")
    add("sealbox_region", "the S3 endpoint's region and the clients' (default us-east-1)", metavar="REGION")
    add("sealbox_args", "more sealbox start options, e.g. '--kms-quotas aws'", metavar="ARGS")
    add("sealbox_log", "append Sealbox's access log to FILE (default: no access log)", metavar="FILE")
    add("sealbox_tls", "serve HTTPS with a generated CA; the clients trust it", "bool", action="store_true", default=None)
    add("sealbox_no_reset", f"do not reset Sealbox before each test (per test: @pytest.mark.{NO_RESET_MARKER})", "bool", action="store_true", default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{NO_RESET_MARKER}: this test starts with the state the previous test left (no POST /_sealbox/reset before it)",
    )


def _setting(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    if value is None:
        value = config.getini(name)
    return value


def _file_setting(config: pytest.Config, name: str) -> Optional[str]:
    """A file named on the command line is relative to the working directory, in an ini file to
    that file's directory."""
    value = config.getoption(name)
    if value:
        return os.path.abspath(value)
    value = config.getini(name)
    if not value:
        return None
    base = os.path.dirname(str(config.inipath)) if config.inipath else str(config.rootpath)
    return os.path.join(base, value)


@pytest.fixture(scope="session")
def sealbox(pytestconfig: pytest.Config) -> Iterator[Sealbox]:
    """A Sealbox for the whole session (each xdist worker has its own), in memory on free ports,
    stopped at the end. Reset before every test that uses it, unless that is turned off."""
    command = _setting(pytestconfig, "sealbox_command")
    args = _setting(pytestconfig, "sealbox_args")
    started = start_sealbox(
        command=find_command(command),
        seed=_file_setting(pytestconfig, "sealbox_seed"),
        tls=bool(_setting(pytestconfig, "sealbox_tls")),
        region=_setting(pytestconfig, "sealbox_region") or None,
        args=shlex.split(args) if args else (),
        log=_file_setting(pytestconfig, "sealbox_log"),
    )
    # Should the session end without its finalizers (an interpreter that exits from a thread, say),
    # the server stops with the interpreter.
    atexit.register(started.stop)
    try:
        yield started
    finally:
        started.stop()
        atexit.unregister(started.stop)


@pytest.fixture(autouse=True)
def _sealbox_reset(request: pytest.FixtureRequest) -> None:
    """POST /_sealbox/reset before each test that uses Sealbox: every test starts from the seed (or
    nothing), clock offset 0, no fault rules. Tests that do not use Sealbox do not start it."""
    if "sealbox" not in request.fixturenames:
        return
    if request.node.get_closest_marker(NO_RESET_MARKER) is not None or _setting(request.config, "sealbox_no_reset"):
        return
    request.getfixturevalue("sealbox").reset()


@pytest.fixture
def sealbox_kms(sealbox: Sealbox):
    """A boto3 KMS client for Sealbox, with the default credentials (test/test, account 000000000000)."""
    return sealbox.kms


@pytest.fixture
def sealbox_s3(sealbox: Sealbox):
    """A boto3 S3 client for Sealbox: SigV4 (presigned URLs and POST forms too), path-style."""
    return sealbox.s3


@pytest.fixture
def sealbox_session(sealbox: Sealbox) -> Callable[..., SealboxSession]:
    """sealbox_session(access_key_id, secret_access_key): a boto3 session for a seeded identity,
    whose KMS and S3 clients talk to Sealbox."""
    return sealbox.session


@pytest.fixture
def sealbox_env(sealbox: Sealbox, monkeypatch: pytest.MonkeyPatch) -> Sealbox:
    """Points code that makes its own clients (`boto3.client("kms")`) at Sealbox for one test:
    AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_S3, credentials, region, CA bundle."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in sealbox.env.items():
        monkeypatch.setenv(name, value)
    return sealbox
