"""A `sealbox start` process on free ports and thin helpers over its admin endpoints.

The admin endpoints are described in Sealbox's README ("Admin endpoints"): reset, the virtual
clock, snapshots and fault rules, on either port. Everything here is plain HTTP from the standard
library; the clients are boto3's.
"""
from __future__ import annotations

import json
import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import ssl
from datetime import datetime
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence
from contextlib import contextmanager

import boto3
import botocore.config

__all__ = ["Sealbox", "SealboxError", "SealboxSession", "find_command", "start_sealbox"]

DEFAULT_ACCESS_KEY_ID = "test"
DEFAULT_SECRET_ACCESS_KEY = "test"


class SealboxError(Exception):
    """An admin request Sealbox refused, or a `sealbox start` that did not become ready."""

    def __init__(self, message: str, status: Optional[int] = None, body: Optional[str] = None):
        super().__init__(message)
        self.status = status
        self.body = body


def find_command(option: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """The command that runs Sealbox's CLI, as a list: the option, $SEALBOX_COMMAND, `sealbox` on
    PATH, or `npx --yes sealbox` (the package from a project's node_modules, else npm's registry).
    The option and the variable are command lines (`node packages/cli/dist/bin.js`)."""
    env = os.environ if environ is None else environ
    for given in (option, env.get("SEALBOX_COMMAND")):
        if given:
            return shlex.split(given, posix=os.name != "nt")
    path = env.get("PATH")
    installed = shutil.which("sealbox", path=path)
    if installed:
        return [installed]
    npx = shutil.which("npx", path=path)
    if npx:
        return [npx, "--yes", "sealbox"]
    raise SealboxError(
        "pytest-sealbox cannot find Sealbox: install it (npm install --save-dev sealbox, or npm install -g sealbox), "
        "or name the command with --sealbox-command or SEALBOX_COMMAND (e.g. 'node /path/to/sealbox/packages/cli/dist/bin.js'); "
        "npx, which would fetch it, is not on PATH either"
    )


class SealboxSession(boto3.session.Session):
    """A boto3 session for one identity whose KMS and S3 clients (and resources) talk to Sealbox:
    its endpoint, region, CA bundle, SigV4 and path-style addressing. Other services are boto3's own,
    except CloudTrail, whose LookupEvents Sealbox serves on the KMS port."""

    def __init__(self, sealbox: "Sealbox", aws_access_key_id: str, aws_secret_access_key: str, aws_session_token: Optional[str] = None):
        super().__init__(
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            region_name=sealbox.region,
        )
        self._sealbox = sealbox

    def _sealbox_kwargs(self, service_name: str, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        endpoint = self._sealbox.endpoint_for(service_name)
        if endpoint is None:
            return kwargs
        kwargs.setdefault("endpoint_url", endpoint)
        if self._sealbox.ca_bundle:
            kwargs.setdefault("verify", self._sealbox.ca_bundle)
        # SigV4 everywhere, also for presigned URLs and POST forms (botocore would otherwise pick
        # per call), and path-style S3: bucket names need no DNS.
        ours = botocore.config.Config(signature_version="s3v4" if service_name == "s3" else "v4", s3={"addressing_style": "path"})
        given = kwargs.get("config")
        kwargs["config"] = ours.merge(given) if given is not None else ours
        return kwargs

    def client(self, service_name: str, *args: Any, **kwargs: Any):  # type: ignore[override]
        return super().client(service_name, *args, **self._sealbox_kwargs(service_name, kwargs))

    def resource(self, service_name: str, *args: Any, **kwargs: Any):  # type: ignore[override]
        return super().resource(service_name, *args, **self._sealbox_kwargs(service_name, kwargs))


class Sealbox:
    """A running Sealbox: its endpoints, ready boto3 clients, and the admin helpers.

    Made by `start_sealbox()` (or the `sealbox` fixture), or for a Sealbox started elsewhere from
    its endpoints: `Sealbox(kms_url, s3_url)`."""

    def __init__(
        self,
        kms_url: Optional[str],
        s3_url: Optional[str],
        region: str = "us-east-1",
        ca_bundle: Optional[str] = None,
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
        secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY,
        process: Optional[subprocess.Popen] = None,
        ready: Optional[Dict[str, Any]] = None,
    ):
        self.kms_url = kms_url
        self.s3_url = s3_url
        self.region = region
        self.ca_bundle = ca_bundle
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        #: the JSON line `sealbox start --json` printed (seed report included)
        self.ready: Dict[str, Any] = ready or {}
        self.process = process
        self._session: Optional[SealboxSession] = None
        self._clients: Dict[str, Any] = {}
        self._ssl = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None
        # Admin requests go straight to Sealbox, never through an HTTP(S)_PROXY of the environment.
        handlers: List[Any] = [urllib.request.ProxyHandler({})]
        if self._ssl is not None:
            handlers.append(urllib.request.HTTPSHandler(context=self._ssl))
        self._opener = urllib.request.build_opener(*handlers)

    # -- endpoints and clients -------------------------------------------------------------------

    def endpoint_for(self, service_name: str) -> Optional[str]:
        if service_name == "s3":
            return self.s3_url
        if service_name in ("kms", "cloudtrail"):
            return self.kms_url
        return None

    @property
    def env(self) -> Dict[str, str]:
        """The environment that points the AWS CLI, boto3 and the SDKs at this Sealbox."""
        env = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }
        if self.kms_url:
            env["AWS_ENDPOINT_URL_KMS"] = self.kms_url
        if self.s3_url:
            env["AWS_ENDPOINT_URL_S3"] = self.s3_url
        if self.ca_bundle:
            env["AWS_CA_BUNDLE"] = self.ca_bundle
        return env

    def session(self, access_key_id: Optional[str] = None, secret_access_key: Optional[str] = None, session_token: Optional[str] = None) -> SealboxSession:
        """A boto3 session for an identity (a seeded user, another account's root credentials, ...);
        without arguments, the default credentials test/test."""
        if access_key_id is None:
            if self._session is None:
                self._session = SealboxSession(self, self.access_key_id, self.secret_access_key)
            return self._session
        if secret_access_key is None:
            raise TypeError("session() needs the secret access key with the access key id")
        return SealboxSession(self, access_key_id, secret_access_key, session_token)

    def client(self, service_name: str, **kwargs: Any):
        """A new boto3 client with the default credentials (see `session()` for other identities)."""
        return self.session().client(service_name, **kwargs)

    @property
    def kms(self):
        """A boto3 KMS client with the default credentials, made once."""
        if "kms" not in self._clients:
            self._clients["kms"] = self.client("kms")
        return self._clients["kms"]

    @property
    def s3(self):
        """A boto3 S3 client with the default credentials, made once."""
        if "s3" not in self._clients:
            self._clients["s3"] = self.client("s3")
        return self._clients["s3"]

    # -- admin endpoints -------------------------------------------------------------------------

    @property
    def admin_url(self) -> str:
        url = self.kms_url or self.s3_url
        if url is None:
            raise SealboxError("this Sealbox has no endpoint")
        return url

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """One admin request (`/_sealbox/...`); answers the parsed JSON (None when empty). A JSON body
        is sent as application/json, which the endpoints that change state require."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {} if data is None else {"Content-Type": "application/json"}
        req = urllib.request.Request(self.admin_url + path, data=data, headers=headers, method=method)
        try:
            with self._opener.open(req, timeout=timeout) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as err:
            text = err.read().decode("utf-8", "replace")
            raise SealboxError(f"{method} {path} answered {err.code}: {text}", err.code, text) from None
        return json.loads(text) if text.strip() else None

    def health(self) -> Dict[str, Any]:
        return self.request("GET", "/_sealbox/health")

    def reset(self) -> None:
        """Back to the start: both services, the event log, the clock and the fault rules return to
        what the seed (or the archive) made, or to nothing. Milliseconds."""
        self.request("POST", "/_sealbox/reset")

    def now(self) -> datetime:
        """The virtual clock's time."""
        answer = self.request("GET", "/_sealbox/clock")
        return datetime.fromisoformat(answer["now"].replace("Z", "+00:00"))

    def clock(self) -> Dict[str, Any]:
        """`{"now": "...", "offsetSeconds": N}`."""
        return self.request("GET", "/_sealbox/clock")

    def advance(self, seconds: float) -> Dict[str, Any]:
        """Time passes for everyone: due deletions and rotations run, URLs presigned before the call
        have aged by `seconds`. Takes effect at the next whole second; returns 1 to 2 s later, once
        every request signed afterwards is current."""
        return self.request("POST", "/_sealbox/clock", {"advanceSeconds": seconds})

    def snapshot(self, name: str) -> Dict[str, Any]:
        """Saves the whole state (clock included) under `name`: `{"name", "created", "bytes"}`."""
        return self.request("POST", "/_sealbox/snapshots/" + _segment(name))

    def restore(self, name: str) -> None:
        """Goes back to a saved snapshot; it stays saved."""
        self.request("POST", "/_sealbox/snapshots/" + _segment(name) + "/restore")

    def delete_snapshot(self, name: str) -> None:
        self.request("DELETE", "/_sealbox/snapshots/" + _segment(name))

    def snapshots(self) -> List[Dict[str, Any]]:
        return self.request("GET", "/_sealbox/snapshots")["snapshots"]

    def _get_from(self, base: str, path: str) -> Optional[Dict[str, Any]]:
        """GET an admin path of one service; None on 404."""
        req = urllib.request.Request(base + path, method="GET")
        try:
            with self._opener.open(req, timeout=30) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            text = err.read().decode("utf-8", "replace")
            raise SealboxError(f"GET {path} answered {err.code}: {text}", err.code, text) from None

    def requests(self, service: str = "s3", limit: int = 100, failed: bool = False) -> List[Dict[str, Any]]:
        """The service's recent requests, newest first (`GET /_sealbox/requests`): request id, time,
        operation, principal, status, error code and message, the decision."""
        base = self.s3_url if service == "s3" else self.kms_url
        if base is None:
            raise SealboxError(f"this Sealbox has no {service} endpoint")
        answer = self._get_from(base, f"/_sealbox/requests?limit={int(limit)}" + ("&failed=1" if failed else ""))
        return (answer or {}).get("requests", [])

    def explain(self, request_id: str) -> Optional[Dict[str, Any]]:
        """Why a request was allowed or denied, by the request id boto3 reports
        (`err.response["ResponseMetadata"]["RequestId"]`): its decision records, as
        `GET /_sealbox/decisions/ID` answers them, with `kmsRequests` (the KMS calls an S3 request
        made, explained). None when neither service has the id. `sealbox explain ID` prints it."""
        path = "/_sealbox/decisions/" + _segment(request_id)
        order = [self.kms_url, self.s3_url] if len(request_id) == 36 else [self.s3_url, self.kms_url]
        for base in order:
            if base is None:
                continue
            found = self._get_from(base, path)
            if found is None:
                continue
            linked = [self._get_from(self.kms_url, "/_sealbox/decisions/" + _segment(i)) for i in found.get("kmsRequestIds", [])] if self.kms_url else []
            if any(linked):
                found["kmsRequests"] = [k for k in linked if k is not None]
            return found
        return None

    def add_fault(self, rule: Optional[Mapping[str, Any]] = None, **fields: Any) -> Dict[str, Any]:
        """Adds a fault rule (a mapping, keywords, or both) and answers it with its `id`:
        `add_fault(service="kms", operation="GenerateDataKey", error="ThrottlingException", count=2)`."""
        return self.request("POST", "/_sealbox/faults", {**(rule or {}), **fields})

    def add_faults(self, rules: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
        """Adds several rules, all or none."""
        return self.request("POST", "/_sealbox/faults", {"rules": list(rules)})["rules"]

    def faults(self) -> List[Dict[str, Any]]:
        """The rules in force, with `remaining` and `fired`."""
        return self.request("GET", "/_sealbox/faults")["rules"]

    def remove_fault(self, rule_id: str) -> None:
        self.request("DELETE", "/_sealbox/faults/" + _segment(rule_id))

    def clear_faults(self) -> None:
        self.request("DELETE", "/_sealbox/faults")

    @contextmanager
    def fault(self, rule: Optional[Mapping[str, Any]] = None, **fields: Any) -> Iterator[Dict[str, Any]]:
        """A rule in force for the `with` block only."""
        added = self.add_fault(rule, **fields)
        try:
            yield added
        finally:
            try:
                self.remove_fault(added["id"])
            except SealboxError as err:
                if err.status != 404:  # a rule with a count may be used up
                    raise

    # -- lifecycle -------------------------------------------------------------------------------

    def stop(self, timeout: float = 10) -> None:
        """Stops the process this object started (SIGTERM to its process group, then SIGKILL), so
        nothing is left behind: not the server, not npx's shell."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process, getattr(signal, "SIGKILL", signal.SIGTERM))
                process.wait(timeout)
        else:
            # The server exited; anything left in its group (a wrapper's child) goes too.
            _signal_group(process, getattr(signal, "SIGKILL", signal.SIGTERM))
        # stdout is left to the reader thread, which ends when the pipe closes: closing it here would
        # wait for that read, that is for every process that holds the pipe.
        _remove_temporary_ca(self.ready)

    def __enter__(self) -> "Sealbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Sealbox(kms_url={self.kms_url!r}, s3_url={self.s3_url!r}, region={self.region!r})"


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        if os.name == "posix":
            # The process leads a group of its own (start_new_session): npx's shell and node with it.
            os.killpg(process.pid, sig)
        else:
            process.terminate() if sig == signal.SIGTERM else process.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _remove_temporary_ca(ready: Mapping[str, Any]) -> None:
    """An in-memory `sealbox start --tls` writes its CA to a temporary directory of its own
    (sealbox-tls-*) and leaves it; it is removed once that process is gone."""
    ca = ready.get("caBundle")
    if not ca or ready.get("dataDir"):
        return
    directory = os.path.dirname(os.path.abspath(ca))
    if os.path.basename(directory).startswith("sealbox-tls-") and os.path.dirname(directory) == os.path.abspath(tempfile.gettempdir()):
        shutil.rmtree(directory, ignore_errors=True)


def _drain(stream: Any, lines: "queue.Queue[Optional[bytes]]") -> None:
    for line in iter(stream.readline, b""):
        lines.put(line)
    lines.put(None)


def start_sealbox(
    command: Optional[Sequence[str]] = None,
    seed: Optional[str] = None,
    tls: bool = False,
    region: Optional[str] = None,
    args: Sequence[str] = (),
    log: Optional[str] = None,
    timeout: float = 120,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
) -> Sealbox:
    """Starts `sealbox start --json --in-memory` on free ports and waits for its ready line.

    `log` is a file for its stderr (the access log); without one the access log is off (--quiet)
    and stderr goes to a temporary file shown if the start fails."""
    argv = list(command) if command else find_command(environ=env)
    argv += ["start", "--json", "--in-memory", "--kms-port", "0", "--s3-port", "0", "--no-console"]
    if seed:
        argv += ["--seed", os.path.abspath(seed)]
    if not tls:
        # `sealbox start` serves HTTPS and HTTP by default; a fixture without --sealbox-tls serves
        # plain HTTP only, and, as the README advises for test fixtures, SSE-KMS and SSE-C work
        # over it.
        argv += ["--no-tls", "--allow-http-sse-kms"]
    if region:
        argv += ["--region", region]
    if not log:
        argv.append("--quiet")
    argv += list(args)
    stderr = open(log, "ab") if log else tempfile.TemporaryFile()
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=os.name == "posix",
        )
    except OSError as err:
        stderr.close()
        raise SealboxError(f"could not run {shlex.join(argv)}: {err}") from None
    lines: "queue.Queue[Optional[bytes]]" = queue.Queue()
    threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True).start()
    sealbox = Sealbox(None, None, process=process)
    try:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise SealboxError(f"{shlex.join(argv)} printed no ready line within {timeout:g} s{_tail(stderr)}") from None
        if line is None:
            code = process.wait()
            raise SealboxError(f"{shlex.join(argv)} exited with code {code} before it was ready{_tail(stderr)}")
        try:
            ready = json.loads(line)
        except ValueError:
            raise SealboxError(f"{shlex.join(argv)} printed {line[:200]!r}, not the JSON ready line (is this the sealbox command?){_tail(stderr)}") from None
    except BaseException:
        sealbox.stop()
        raise
    finally:
        stderr.close()
    sealbox.__init__(  # type: ignore[misc]
        ready.get("kms"),
        ready.get("s3"),
        region=ready.get("region", "us-east-1"),
        ca_bundle=ready.get("caBundle"),
        access_key_id=ready.get("accessKeyId", DEFAULT_ACCESS_KEY_ID),
        secret_access_key=ready.get("secretAccessKey", DEFAULT_SECRET_ACCESS_KEY),
        process=process,
        ready=ready,
    )
    return sealbox


def _tail(stderr: Any) -> str:
    try:
        stderr.flush()
        stderr.seek(0, os.SEEK_END)
        size = stderr.tell()
        stderr.seek(max(0, size - 4000))
        text = stderr.read().decode("utf-8", "replace").strip()
    except (OSError, ValueError):
        return ""
    return f":\n{text}" if text else ""
