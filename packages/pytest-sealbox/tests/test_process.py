"""Finding and starting the sealbox command, stopping it without leftovers, TLS, and the plugin's
options as a user's session sees them (pytester runs inner sessions)."""
import os
import shlex
import socket
import stat
import sys
import time

import pytest

from pytest_sealbox import SealboxError, find_command, start_sealbox

from conftest import SEEDED_KEY

COMMAND = os.environ["SEALBOX_COMMAND"]


def executable(directory, name):
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie no one has waited for yet is gone as far as anyone can tell.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return True


def listening(url):
    host, port = url.split("//")[1].split(":")
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0


@pytest.mark.skipif(os.name != "posix", reason="fake executables are shell scripts")
class TestFindCommand:
    def test_the_option_first_then_the_variable(self, tmp_path):
        path = os.pathsep.join([str(tmp_path)])
        executable(tmp_path, "sealbox")
        env = {"SEALBOX_COMMAND": "node '/a b/bin.js'", "PATH": path}
        assert find_command("node other.js", env) == ["node", "other.js"]
        assert find_command(None, env) == ["node", "/a b/bin.js"]

    def test_then_sealbox_on_path_then_npx(self, tmp_path):
        both, only_npx = tmp_path / "both", tmp_path / "npx"
        both.mkdir(), only_npx.mkdir()
        sealbox = executable(both, "sealbox")
        executable(both, "npx")
        npx = executable(only_npx, "npx")
        assert find_command(None, {"PATH": str(both)}) == [sealbox]
        assert find_command(None, {"PATH": str(only_npx)}) == [npx, "--yes", "sealbox"]

    def test_says_how_to_name_it_when_there_is_none(self, tmp_path):
        with pytest.raises(SealboxError) as none:
            find_command(None, {"PATH": str(tmp_path)})
        assert "--sealbox-command or SEALBOX_COMMAND" in str(none.value)


def test_a_command_that_fails_shows_its_stderr():
    with pytest.raises(SealboxError) as failed:
        start_sealbox([sys.executable, "-c", "import sys; sys.stderr.write('no such thing'); sys.exit(3)"])
    assert "exited with code 3 before it was ready" in str(failed.value)
    assert "no such thing" in str(failed.value)


def test_a_command_that_is_not_sealbox():
    with pytest.raises(SealboxError) as failed:
        start_sealbox([sys.executable, "-c", "print('hello', flush=True); import time; time.sleep(30)"])
    assert "not the JSON ready line" in str(failed.value)


def test_stop_leaves_no_process_and_no_port():
    sealbox = start_sealbox(shlex.split(COMMAND))
    pid = sealbox.process.pid
    assert alive(pid) and listening(sealbox.kms_url) and listening(sealbox.s3_url)
    sealbox.stop()
    assert not alive(pid)
    assert not listening(sealbox.kms_url) and not listening(sealbox.s3_url)
    sealbox.stop()  # twice is fine


@pytest.mark.skipif(os.name != "posix", reason="a POSIX shell")
def test_stop_ends_a_wrapper_and_what_it_started():
    # As npx runs it: a shell that does not exec the server, and dies of SIGTERM alone.
    sealbox = start_sealbox(["sh", "-c", COMMAND + ' "$@"; exit $?', "sh"])
    assert listening(sealbox.kms_url)
    sealbox.stop()
    deadline = time.monotonic() + 5
    while listening(sealbox.kms_url) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not listening(sealbox.kms_url) and not listening(sealbox.s3_url)


def test_tls_clients_trust_the_generated_local_ca(tmp_path, monkeypatch):
    # An in-memory Sealbox keeps its local CA in SEALBOX_TLS_DIR (else ~/.sealbox/tls), for every
    # start to share: the CA outlives the process, so trust set up once keeps working.
    monkeypatch.setenv("SEALBOX_TLS_DIR", str(tmp_path / "tls"))
    with start_sealbox(shlex.split(COMMAND), tls=True) as sealbox:
        assert sealbox.kms_url.startswith("https://") and sealbox.s3_url.startswith("https://")
        assert os.path.exists(sealbox.ca_bundle)
        assert sealbox.env["AWS_CA_BUNDLE"] == sealbox.ca_bundle
        key = sealbox.kms.create_key()["KeyMetadata"]["KeyId"]
        sealbox.s3.create_bucket(Bucket="tls")
        sealbox.s3.put_object(Bucket="tls", Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
        sealbox.reset()  # the admin helpers trust it too
        assert sealbox.kms.list_keys()["Keys"] == []
    assert os.path.dirname(sealbox.ca_bundle) == str(tmp_path / "tls")
    assert os.path.exists(sealbox.ca_bundle)


INNER = """
import os

def test_one(sealbox, sealbox_kms):
    with open(os.environ["PID_FILE"], "w") as f:
        f.write(str(sealbox.process.pid))
    sealbox_kms.create_key()
    assert len(sealbox_kms.list_keys()["Keys"]) == {first}

def test_two(sealbox_kms):
    assert len(sealbox_kms.list_keys()["Keys"]) == {second}
"""


class TestInnerSessions:
    def run(self, pytester, monkeypatch, *args, first=1, second=0):
        pid_file = pytester.path / "pid"
        monkeypatch.setenv("PID_FILE", str(pid_file))
        pytester.makepyfile(test_inner=INNER.format(first=first, second=second))
        result = pytester.runpytest_subprocess("-p", "pytest_sealbox", "-p", "no:cacheprovider", *args)
        pid = int(pid_file.read_text())
        assert not alive(pid)  # the session stopped it
        return result

    def test_resets_between_tests_and_stops_at_the_end(self, pytester, monkeypatch):
        self.run(pytester, monkeypatch).assert_outcomes(passed=2)

    def test_no_reset_option(self, pytester, monkeypatch):
        self.run(pytester, monkeypatch, "--sealbox-no-reset", second=1).assert_outcomes(passed=2)

    def test_seed_option(self, pytester, monkeypatch):
        seed = pytester.path / "s.yaml"
        seed.write_text(f"keys:\n  - id: {SEEDED_KEY}\n")
        self.run(pytester, monkeypatch, "--sealbox-seed", str(seed), first=2, second=1).assert_outcomes(passed=2)

    def test_ini_settings_and_the_command_option(self, pytester, monkeypatch):
        monkeypatch.delenv("SEALBOX_COMMAND")
        (pytester.path / "seeds").mkdir()
        (pytester.path / "seeds" / "s.yaml").write_text(f"keys:\n  - id: {SEEDED_KEY}\n    region: eu-west-1\n")
        pytester.makeini("[pytest]\nsealbox_seed = seeds/s.yaml\nsealbox_no_reset = true\nsealbox_region = eu-west-1\n")
        pytester.makepyfile(test_region="def test_region(sealbox):\n    assert sealbox.region == sealbox.kms.meta.region_name == 'eu-west-1'\n")
        result = self.run(pytester, monkeypatch, "--sealbox-command", COMMAND, first=2, second=2)
        result.assert_outcomes(passed=3)

    def test_a_session_that_does_not_use_it_does_not_start_it(self, pytester, monkeypatch):
        monkeypatch.setenv("SEALBOX_COMMAND", "/nonexistent/sealbox")
        pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
        pytester.runpytest_subprocess("-p", "pytest_sealbox").assert_outcomes(passed=1)

    def test_a_command_that_cannot_run_errors_the_tests_that_use_it(self, pytester, monkeypatch):
        monkeypatch.setenv("SEALBOX_COMMAND", "/nonexistent/sealbox")
        pytester.makepyfile(test_uses="def test_uses(sealbox):\n    pass\n")
        result = pytester.runpytest_subprocess("-p", "pytest_sealbox")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*could not run /nonexistent/sealbox start --json*"])
