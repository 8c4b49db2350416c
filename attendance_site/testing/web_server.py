"""A real web process for tests and benchmarks: the same command `make run` starts."""

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from attendance_site.embedded_redis import free_port
from attendance_site.server import web_command

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# uvicorn's access log: one line per request, which drowns the errors a report needs.
_ACCESS_LINE = re.compile(r'^INFO:\s+\S+ - "')
# No proxy from the environment may stand between a test and 127.0.0.1.
_local_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class WebServerError(RuntimeError):
    pass


class WebServer:
    """One web process on a fixed port, which can be stopped (by pid) and started again."""

    def __init__(self, *, env: dict[str, str], log_path: Path, port: int | None = None):
        self.env = env
        self.log_path = log_path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, timeout: float = 30.0) -> "WebServer":
        assert not self.running, "the server is already running"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own command, this interpreter)
                web_command(host="127.0.0.1", port=self.port),
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise WebServerError(f"the web server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with _local_http.open(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise WebServerError(
                    f"the web server did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self, *, timeout: float = 15.0) -> None:
        if not self.running:
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)

    def __enter__(self) -> "WebServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server so far (Linux /proc)."""
        assert self.process is not None
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int, chars: int = 3000) -> str:
        """What the server logged from offset on, less the access log."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return "\n".join(line for line in text.splitlines() if not _ACCESS_LINE.match(line))[-chars:]

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_since(0, chars)

    def log_errors(self) -> int:
        return self.log_since(0, chars=10**9).count("Traceback")


class Served(Protocol):
    url: str


def http_request(
    server: Served,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 30.0,
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of one request to a server (anything with
    a base url: a WebServer, the whole system); HTTP errors are answers too."""
    call = urllib.request.Request(server.url + path, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with _local_http.open(call, timeout=timeout) as response:
            return response.status, _lower(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers.items()), error.read()


@contextmanager
def web_serving(*, env: dict[str, str], log_path: Path, request=None) -> Iterator[WebServer]:
    """For tests: a started web server, stopped afterwards; a start failure fails the test,
    and with pytest's `request` the server's log is printed when the test failed."""
    import pytest

    server = WebServer(env=env, log_path=log_path)
    failures_before = request.session.testsfailed if request is not None else 0
    try:
        server.start()
    except WebServerError as error:
        pytest.fail(str(error))
    try:
        yield server
        if request is not None and request.session.testsfailed > failures_before:
            print(f"--- web server log ({log_path}) ---\n{server.log_tail()}")
    finally:
        server.stop()


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def api_token(server: Served, username: str, password: str) -> str:
    """An `Authorization` header value for a person, from the server's token endpoint."""
    status, _, body = http_request(
        server,
        "POST",
        "/api/auth/token/",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urllib.parse.urlencode({"username": username, "password": password}).encode(),
    )
    if status not in (200, 201):
        raise WebServerError(f"no token for {username}: {status} {body[:300]!r}")
    return f"Token {json.loads(body)['token']}"
