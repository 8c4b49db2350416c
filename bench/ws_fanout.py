"""WebSocket fan-out: how long a published attendance event takes to reach N browsers.

N clients (1, then 100, then 500) hold a session-authenticated WebSocket on /ws/live/
of one real web server process (uvicorn), all in the same site group. The bench process publishes
attendance events with the app's own ``site_message_publish`` (from a plain thread, as
the app does after a commit) and every client records receive time - send time. The
clients, the publisher and the clock are in one process, so ``perf_counter`` on both
ends agrees; the receive time is when the client's coroutine gets the message, so the
clients' own Python work (one asyncio loop for all of them) is part of the figure.

Baseline: the same path with one client. That is the end-to-end latency with no
fan-out (publish, Redis, the web server's channel layer, the consumer, the socket), so the
ratio is what fanning out to N sockets costs. For comparison (not in the JSON lines)
the same runs are repeated on channels_redis's ``RedisPubSubChannelLayer``, through a
throwaway settings module that only swaps the layer.

The server gets its own temporary SQLite database (migrated, one site, one viewer with
access to it, one session) and Redis (REDIS_URL if set, else the embedded one). The
bench process may already have set Django up on other settings (``python -m bench``):
the cache and channel layer it publishes through are pointed at the bench Redis with
``override_settings``, which Django's cache handler and Channels' layer manager both
follow, so the order in which Django and Redis start does not matter.
"""

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from attendance_site.testing.web_server import WebServer
from bench.report import emit, note, percentile

NAME = "ws_fanout"
BASE_DIR = Path(__file__).resolve().parent.parent
CLIENT_COUNTS = (100, 500)
BASELINE_CLIENTS = 1
EVENTS = 20  # measured per run, on top of the warm-up ones
WARMUP_EVENTS = 2
SPACING = 0.2  # seconds between events: 5 events/s, 2,500 deliveries/s at 500 clients
CONNECT_BATCH = 25  # concurrent handshakes: under Twisted's listen backlog of 50
DRAIN_SECONDS = 10.0  # how long to wait for late deliveries after the last event
TARGET_MS = 250.0
OVERALL_TIMEOUT = 480.0  # seconds for everything after the database setup
SETUP_TIMEOUT = 240
LAYERS = {
    "default": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}

# Run in a subprocess against the temporary SQLite file: the bench process's own
# database (whatever its settings say) is never touched.
SETUP_SCRIPT = """
import json

import django

django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from accounts.models import Role
from accounts.services import user_create
from employees.services import site_create

call_command("migrate", interactive=False, verbosity=0)
admin = user_create(username="bench-admin", password=None, role=Role.ADMIN, all_sites=True)
site = site_create(actor=admin, fields={"name": "bench-ws-fanout", "timezone": "Europe/Berlin"})
viewer = user_create(username="bench-ws-viewer", password=None, role=Role.VIEWER, sites=[site])
client = Client()
client.force_login(viewer)
name = settings.SESSION_COOKIE_NAME
print(json.dumps({"site_id": site.pk, "cookie": f"{name}={client.cookies[name].value}"}))
"""

PUBSUB_SETTINGS = """
from attendance_site.settings import *  # noqa: F403
from attendance_site.settings import CHANNEL_LAYERS as _BASE

CHANNEL_LAYERS = {"default": {**_BASE["default"], "BACKEND": "%s"}}
"""


@dataclass
class Phase:
    clients: int
    connected: int = 0
    connect_seconds: float = 0.0
    connect_errors: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    missing: int = 0
    fanout_done_ms: list[float] = field(default_factory=list)  # per event: the last client's latency
    server_cpu_ms: float = 0.0
    bench_cpu_ms: float = 0.0
    dropped: Counter = field(default_factory=Counter)  # sockets the server closed mid-run, by close code

    @property
    def complete(self) -> bool:
        return self.connected == self.clients and self.missing == 0

    def summary(self) -> str:
        lat = self.latencies_ms
        text = (
            f"{self.clients} clients: {self.connected} connected in {self.connect_seconds:.1f} s"
            f"{' (errors: ' + dict(self.connect_errors).__repr__() + ')' if self.connect_errors else ''}, "
            f"{len(lat) - self.missing} deliveries, {self.missing} missing"
        )
        if lat:
            text += (
                f"; p50 {percentile(lat, 50):.1f} ms, p99 {percentile(lat, 99):.1f} ms, max {max(lat):.1f} ms; "
                f"CPU per event: Daphne {self.server_cpu_ms / EVENTS:.1f} ms, bench {self.bench_cpu_ms / EVENTS:.1f} ms"
            )
        if self.fanout_done_ms:
            last = percentile(self.fanout_done_ms, 50)
            text += f"; last client of an event (complete events only): p50 {last:.1f} ms"
        if self.dropped:
            text += f"; closed early: {dict(self.dropped)}"
        return text


def run() -> None:
    load_start = os.getloadavg()
    note(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f} ({os.cpu_count()} CPUs)")
    _raise_open_files(2 * max(CLIENT_COUNTS) + 512)
    with ExitStack() as stack:
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            from attendance_site.embedded_redis import embedded_redis_start

            embedded = embedded_redis_start()
            stack.callback(embedded.stop)
            redis_url = embedded.url
            note(f"embedded Redis on {redis_url} (pid {embedded.process.pid})")
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-ws-fanout-")))
        server_env = _server_env(workdir, redis_url)
        site_id, cookie = _database_setup(server_env)
        deadline = time.monotonic() + OVERALL_TIMEOUT

        results: dict[str, dict[int, Phase]] = {}
        for layer, backend in LAYERS.items():
            results[layer] = _layer_run(layer, backend, workdir, server_env, redis_url, site_id, cookie, deadline)
            if layer == "default":
                _emit(results[layer])

    pubsub, default = results["pubsub"], results["default"]
    for clients in (BASELINE_CLIENTS, *CLIENT_COUNTS):
        if pubsub[clients].latencies_ms and default[clients].latencies_ms:
            note(
                f"pub/sub layer vs default at {clients} clients: "
                + ", ".join(
                    f"p{pct} {percentile(pubsub[clients].latencies_ms, pct):.1f} vs "
                    f"{percentile(default[clients].latencies_ms, pct):.1f} ms"
                    for pct in (50, 99)
                )
            )
    load_end = os.getloadavg()
    note(f"load average at end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")


def _emit(phases: dict[int, Phase]) -> None:
    baseline = phases[BASELINE_CLIENTS]
    for clients in CLIENT_COUNTS:
        phase = phases[clients]
        for pct in (50, 99):
            value = percentile(phase.latencies_ms, pct) if phase.latencies_ms else 0.0
            emit(
                bench=NAME,
                metric=f"delivery_latency_p{pct}_{clients}_clients",
                value=value,
                unit="ms",
                baseline=percentile(baseline.latencies_ms, pct) if baseline.latencies_ms else 0.0,
                target=f"<= {TARGET_MS:g} ms",
                # A lost message or a refused client is a failure however fast the rest were.
                met=bool(phase.latencies_ms) and value <= TARGET_MS and phase.complete and baseline.complete,
            )


def _layer_run(layer, backend, workdir, server_env, redis_url, site_id, cookie, deadline) -> dict[int, Phase]:
    from django.conf import settings
    from django.test import override_settings

    env = dict(server_env)
    if layer != "default":
        module = f"bench_ws_fanout_{layer}_settings"
        (workdir / f"{module}.py").write_text(PUBSUB_SETTINGS % backend)
        env["DJANGO_SETTINGS_MODULE"] = module
    layer_config = {"default": {**settings.CHANNEL_LAYERS["default"], "BACKEND": backend}}
    layer_config["default"]["CONFIG"] = {**layer_config["default"].get("CONFIG", {}), "hosts": [redis_url]}
    caches = {"default": {**settings.CACHES["default"], "LOCATION": redis_url}}

    note(f"--- {layer} layer ({backend})")
    with (
        WebServer(env=env, log_path=workdir / f"web-{layer}.log") as server,
        override_settings(CHANNEL_LAYERS=layer_config, CACHES=caches),
    ):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{NAME}: out of time before the {layer} layer run")
        phases = asyncio.run(asyncio.wait_for(_phases(server, site_id, cookie), remaining))
        errors = server.log_errors()
        if errors:
            note(f"WARNING: {errors} tracebacks in the web server's log; tail:\n{server.log_tail()}")
    return phases


async def _phases(server: WebServer, site_id: int, cookie: str) -> dict[int, Phase]:
    phases = {}
    for clients in (BASELINE_CLIENTS, *CLIENT_COUNTS):
        log_start = server.log_size()
        phases[clients] = await _phase(server, site_id, cookie, clients)
        note(phases[clients].summary())
        if not phases[clients].complete:
            note(f"The web server's log during that run, access lines left out:\n{server.log_since(log_start)}")
    return phases


async def _phase(server: WebServer, site_id: int, cookie: str, clients: int) -> Phase:
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    phase = Phase(clients=clients)
    sockets = []

    async def open_one() -> None:
        try:
            ws = await connect(
                f"ws://127.0.0.1:{server.port}/ws/live/",
                origin=Origin(f"http://127.0.0.1:{server.port}"),
                additional_headers={"Cookie": cookie},
                compression=None,  # a browser would negotiate it; here it only costs the clients' CPU
                proxy=None,
                open_timeout=30,
                ping_interval=None,
                max_queue=None,
            )
        except Exception as error:  # counted and reported, not raised
            phase.connect_errors[f"{type(error).__name__}: {error}"[:120]] += 1
            return
        try:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if hello.get("type") != "hello":
                raise ValueError(f"first message is not hello: {hello}")
        except Exception as error:
            phase.connect_errors[f"{type(error).__name__}: {error}"[:120]] += 1
            await ws.close()
            return
        sockets.append(ws)

    started = time.perf_counter()
    for first in range(0, clients, CONNECT_BATCH):
        await asyncio.gather(*(open_one() for _ in range(min(CONNECT_BATCH, clients - first))))
    phase.connect_seconds = time.perf_counter() - started
    phase.connected = len(sockets)
    if not sockets:
        return phase

    # event number -> latencies of its deliveries
    received: dict[int, list[float]] = {k: [] for k in range(EVENTS)}
    counted = 0
    all_in = asyncio.Event()

    async def listen(ws) -> None:
        nonlocal counted
        async for raw in ws:
            now = time.perf_counter()
            message = json.loads(raw)
            if message.get("type") != "attendance.event":
                continue
            data = message["data"]
            if data["bench_k"] >= 0:
                received[data["bench_k"]].append((now - data["bench_sent"]) * 1000)
                counted += 1
                if counted == len(sockets) * EVENTS:
                    all_in.set()
        phase.dropped[f"{ws.close_code} {ws.close_reason}".strip()] += 1

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
    try:
        for k in range(-WARMUP_EVENTS, 0):
            await _publish(site_id, k)
            await asyncio.sleep(SPACING)
        cpu_server, cpu_bench = server.cpu_seconds(), time.process_time()
        first_send = time.perf_counter()
        for k in range(EVENTS):
            # A fixed schedule: a slow fan-out does not slow down the events.
            await asyncio.sleep(max(0.0, first_send + k * SPACING - time.perf_counter()))
            await _publish(site_id, k)
        try:
            await asyncio.wait_for(all_in.wait(), DRAIN_SECONDS)
        except TimeoutError:
            pass
        phase.server_cpu_ms = (server.cpu_seconds() - cpu_server) * 1000
        phase.bench_cpu_ms = (time.process_time() - cpu_bench) * 1000
    finally:
        for task in listeners:
            task.cancel()
        for outcome in await asyncio.gather(*listeners, return_exceptions=True):
            if isinstance(outcome, Exception):  # CancelledError is not one: that is our own stop
                phase.dropped[f"client error {type(outcome).__name__}: {outcome}"[:120]] += 1
        await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True), 30)

    for k, latencies in received.items():
        phase.latencies_ms.extend(latencies)
        lost = len(sockets) - len(latencies)
        if lost > 0:
            # A lost delivery counts as the longest wait there was for it: a lower bound.
            phase.missing += lost
            phase.latencies_ms.extend([(EVENTS - k) * SPACING * 1000 + DRAIN_SECONDS * 1000] * lost)
        if latencies and not lost:
            phase.fanout_done_ms.append(max(latencies))
    return phase


async def _publish(site_id: int, k: int) -> None:
    """The app's publish, from a thread of its own as after a commit; the stamp is taken first."""
    from attendance_site.live.messages import AttendanceEventPayload
    from attendance_site.live.publisher import site_message_publish

    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def publish() -> None:
        try:
            sent = time.perf_counter()
            data = {
                "id": 1_000_000 + k,
                "employee": 1,
                "employee_code": "BWS00001",
                "employee_name": "Bench Fanout",
                "site": site_id,
                "device": None,
                "direction": "in",
                "method": "face",
                "status": "accepted",
                "occurred_at": "2026-01-01T08:00:00+00:00",
                "bench_k": k,
                "bench_sent": sent,
            }
            # A real event's fields, and the bench's own two beside them.
            payload = cast(AttendanceEventPayload, data)
            site_message_publish(site_id=site_id, message_type="attendance.event", data=payload)
        except BaseException as error:  # handed to the awaiting coroutine
            loop.call_soon_threadsafe(settle, error)
        else:
            loop.call_soon_threadsafe(settle, None)

    def settle(error: BaseException | None) -> None:
        if done.done():  # the wait timed out
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    # A daemon thread: a hung Redis cannot keep the interpreter from exiting.
    threading.Thread(target=publish, name="ws-fanout-publish", daemon=True).start()
    await asyncio.wait_for(done, 30)


def _server_env(workdir: Path, redis_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        SQLITE_PATH=str(workdir / "ws-fanout.sqlite3"),
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="attendance_site.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(workdir), str(BASE_DIR), env.get("PYTHONPATH")])),
    )
    return env


def _database_setup(env: dict[str, str]) -> tuple[int, str]:
    note("migrating a temporary SQLite database; one site, one viewer, one session")
    done = subprocess.run(
        [sys.executable, "-c", SETUP_SCRIPT],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{NAME}: database setup failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["site_id"], result["cookie"]


def _raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        note(f"open-file limit raised from {soft} to {new}")


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_site.settings")
    django.setup()
    run()
