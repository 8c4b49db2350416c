"""The web process: uvicorn serving the ASGI application (HTTP and WebSockets).

One command, :func:`web_command`, used by ``make run``, the tests that start a real server
and the benchmarks, so they all run what users run.

Why uvicorn and not Daphne: Daphne (Twisted) receives a whole request body before the
application sees it, then queues all of it in memory at once; a 200 MB upload grew the
process by gigabytes before any limit could answer. uvicorn hands the body to the
application piece by piece and stops reading the socket while it is not asked for more,
so :mod:`attendance_site.request_limits` refuses a body at its limit having read no more.
"""

import json
import logging
import sys

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from attendance_site.log_redaction import BearerPathFilter

# WebSocket messages from browsers are small (the dashboard sends almost nothing): refuse
# anything bigger rather than buffer up to uvicorn's default of 16 MB per message.
WEBSOCKET_MAX_MESSAGE_BYTES = 64 * 1024

# Access lines name the path, and a QR page's path is its bearer link: they are written
# through a child of uvicorn's access logger (its handlers, by propagation) that masks it.
_access_logger = logging.getLogger("uvicorn.access.masked")
_access_logger.addFilter(BearerPathFilter())


class JsonErrorHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering requests it cannot parse in the API's error format.

    The parser refuses request heads it cannot take (headers of ~80 kB and more, malformed
    request lines) before the application runs; the stock answer is a plain-text 400.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.access_logger = _access_logger

    def send_400_response(self, msg: str) -> None:
        body = json.dumps(
            {"type": "client_error", "errors": [{"code": "malformed_request", "detail": msg, "attr": None}]}
        ).encode()
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def web_command(*, host: str, port: int | str) -> list[str]:
    """The command line of one web process."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "attendance_site.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--http",
        f"{__name__}:JsonErrorHttpProtocol",
        "--ws",
        "websockets",
        "--ws-max-size",
        str(WEBSOCKET_MAX_MESSAGE_BYTES),
        # Django's ASGI handler has no lifespan events to run.
        "--lifespan",
        "off",
        "--no-server-header",
    ]
