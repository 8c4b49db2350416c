"""Request limits on a real web server: no body beyond its limit is read, whatever its framing.

These go through the server `make run` starts (uvicorn with the ASGI guard), over raw
sockets, because the cases are about framing that HTTP client libraries smooth over:
chunked bodies without a length, lengths that lie, heads too long to parse.
"""

import json
import socket
import threading
import uuid
from pathlib import Path

import pytest

from attendance_site.testing.processes import child_process_env
from attendance_site.testing.web_server import WebServer, api_token, web_serving
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024
UPLOAD_BYTES = 200 * MB
CONCURRENT_UPLOADS = 20
# What 3 x 20 uploads at once may add to the web process at its peak (7 MB measured). Each is cut off at the
# 20 MB upload limit and spooled to disk past 1 MB; before the guard, one 100 MB upload
# alone grew the process by 1.3 GB.
MEMORY_BOUND_MB = 64


@pytest.fixture
def server(tmp_path, request):
    with web_serving(env=child_process_env(), log_path=tmp_path / "web.log", request=request) as web:
        yield web


def send(server: WebServer, head: bytes, body_chunks=(), *, read_timeout: float = 30.0) -> tuple[int, dict, bytes]:
    """Send a request head and as much of the body as the server takes; (status, headers, body) of its answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=read_timeout) as connection:
        connection.sendall(head)
        try:
            for chunk in body_chunks:
                connection.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what we want to read
        answer = b""
        try:
            while True:
                data = connection.recv(65536)
                if not data:
                    break
                answer += data
        except ConnectionResetError:
            pass
    head_part, _, body = answer.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {key.lower(): value for key, value in headers.items()}, body


def error_code(body: bytes) -> str:
    return json.loads(body)["errors"][0]["code"]


def chunked(total: int, piece: int = 256 * 1024):
    data = b"x" * piece
    for _ in range(total // piece):
        yield b"%x\r\n" % piece + data + b"\r\n"
    yield b"0\r\n\r\n"


def plain(total: int, piece: int = 256 * 1024):
    data = b"x" * piece
    for _ in range(total // piece):
        yield data


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{key}: {value}" for key, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_chunked_json_body_is_cut_off_at_the_limit_and_nothing_is_stored(server, device_a, employee_a):
    status, headers, body = send(
        server,
        head(
            "POST",
            "/api/attendance/device/check-in/",
            {
                "Authorization": f"Device {device_a.credential}",
                "Content-Type": "application/json",
                "Transfer-Encoding": "chunked",
            },
        ),
        chunked(50 * MB),
    )

    assert status == 413
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert error_code(body) == "request_too_large"
    assert not employee_a.attendance_events.exists()


@pytest.mark.parametrize("framing", ["chunked", "declared length"])
def test_multipart_upload_over_the_limit_is_refused(server, device_a, framing):
    boundary = uuid.uuid4().hex
    headers = {
        "Authorization": f"Device {device_a.credential}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    if framing == "chunked":
        headers["Transfer-Encoding"] = "chunked"
        body = chunked(60 * MB)
    else:
        headers["Content-Length"] = str(60 * MB)
        body = plain(60 * MB)

    status, _, answer = send(server, head("POST", "/api/biometrics/device/face-check/", headers), body)

    assert status == 413
    assert error_code(answer) == "request_too_large"


def test_a_long_url_gets_414_and_an_unparseable_head_400_in_the_error_format(server):
    long_url = send(server, head("GET", "/api/employees/employees/?q=" + "a" * 20_000, {}))
    huge_head = send(server, head("GET", "/api/employees/employees/?q=" + "a" * 200_000, {}))
    bad_length = send(server, head("POST", "/api/auth/token/", {"Content-Length": "12abc"}))

    assert (long_url[0], error_code(long_url[2])) == (414, "url_too_long")
    assert (huge_head[0], error_code(huge_head[2])) == (400, "malformed_request")
    assert bad_length[0] == 400
    assert error_code(bad_length[2]) in ("malformed_request", "invalid_content_length")


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process has had since it started."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def concurrent_uploads(server: WebServer, path: str, authorization: str | None) -> list[int]:
    statuses: list[int] = []
    lock = threading.Lock()

    def upload(index: int) -> None:
        boundary = uuid.uuid4().hex
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        if authorization:
            headers["Authorization"] = authorization
        # Half of them hide their size (chunked), half declare it.
        if index % 2:
            headers["Transfer-Encoding"] = "chunked"
            body = chunked(UPLOAD_BYTES)
        else:
            headers["Content-Length"] = str(UPLOAD_BYTES)
            body = plain(UPLOAD_BYTES)
        status, _, _ = send(server, head("POST", path, headers), body, read_timeout=120)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=upload, args=(index,)) for index in range(CONCURRENT_UPLOADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return statuses


def test_twenty_concurrent_200_mb_uploads_keep_the_web_process_within_a_memory_bound(
    server, device_a, site_a, admin_user
):
    employee = EmployeeFactory(site=site_a)
    assert server.process is not None
    # An ordinary request first (a login), so the figures compare a warmed-up process.
    admin_token = api_token(server, "hr-admin", "pw-admin-123")
    before = peak_rss_mb(server.process.pid)

    anonymous = concurrent_uploads(server, "/api/biometrics/device/face-check/", None)
    as_device = concurrent_uploads(server, "/api/biometrics/device/face-check/", f"Device {device_a.credential}")
    as_person = concurrent_uploads(server, f"/api/biometrics/enrolments/{employee.pk}/face/", admin_token)
    after = peak_rss_mb(server.process.pid)

    print(f"web process peak RSS: {before:.0f} MB before, {after:.0f} MB after 3 x {CONCURRENT_UPLOADS} uploads")
    assert anonymous == as_device == as_person == [413] * CONCURRENT_UPLOADS
    assert after - before < MEMORY_BOUND_MB
    assert server.running
