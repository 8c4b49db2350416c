"""Device check-in throughput through the real server (uvicorn, as `make run` starts it), against a trivial endpoint.

Both loads hit the same web process, with the same device credential and the same
concurrency, from ``wrk`` (a C load generator: a Python one would take the CPU the
server needs on a 2-core machine). The baseline, GET /api/attendance/device/me/,
pays for everything a device request pays for except recording: the ASGI/Django/DRF
stack and the credential check.

Duplicate-window hits are avoided, not accepted: every check-in carries an explicit
``occurred_at``, one employee's successive check-ins are ``STEP`` apart (more than
the site's 2-minute window) and each phase starts a day before the site's earliest
event, so every request stores a new event and its work session.
"""

import json
import shutil
import subprocess
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import redis
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from attendance.models import AttendanceEvent, Device
from attendance.services import device_create
from attendance_site.testing.web_server import WebServer
from bench.env import BenchEnv, Unavailable, bench_admin
from bench.report import emit, note
from employees.models import Employee, Site
from employees.services import employee_create, site_create

NAME = "checkin_throughput"
SITE_NAME = "bench-checkin"
EMPLOYEES = 200
STEP = timedelta(minutes=3)
CONCURRENCIES = (1, 2, 4, 8, 16, 32)
SWEEP_SECONDS = 3
WARMUP_SECONDS = 4
MEASURE_SECONDS = 12
CELERY_QUEUE = "default"
ME_PATH = "/api/attendance/device/me/"
CHECK_IN_PATH = "/api/attendance/device/check-in/"

# wrk's Lua: done() runs once in the main thread, with every thread's statistics merged.
LUA_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "non_2xx_3xx": %d, "socket_errors": %d,'
    .. ' "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

LUA_ME = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Device {credential}"
"""

# Requests are numbered g = counter * threads + tid, unique across wrk threads; g picks
# the employee (cycling) and how many STEPs before `base` the event occurred.
LUA_CHECK_IN = """
local ids = {{{ids}}}
local base = {base}
local step = {step}
local tag = "{tag}"
local nthreads = {threads}
local counter = 0
local created_threads = 0

function setup(thread)
  thread:set("tid", created_threads)
  created_threads = created_threads + 1
end

wrk.method = "POST"
wrk.headers["Authorization"] = "Device {credential}"
wrk.headers["Content-Type"] = "application/json"

function request()
  local g = counter * nthreads + (tid or 0)
  counter = counter + 1
  local employee = ids[(g % #ids) + 1]
  local occurred = os.date("!%Y-%m-%dT%H:%M:%SZ", base - math.floor(g / #ids) * step)
  local body = string.format(
    '{{"employee": %d, "client_event_id": "%s-%d", "method": "pin", "occurred_at": "%s"}}',
    employee, tag, g, occurred)
  return wrk.format(nil, nil, nil, body)
end
"""


def run(env: BenchEnv) -> None:
    if shutil.which("wrk") is None:
        raise Unavailable("wrk is not installed (Debian: apt-get install -y wrk)")
    site, employee_ids, device, credential = _setup()
    queue = redis.Redis.from_url(env.redis_url)
    queued_before = queue.llen(CELERY_QUEUE)
    with (
        tempfile.TemporaryDirectory(prefix="bench-checkin-") as workdir,
        WebServer(env=env.child_env(), log_path=Path(workdir) / "web.log") as server,
    ):
        wrk = _Wrk(server.url, Path(workdir))
        me_script = wrk.script("me", LUA_ME.format(credential=credential))
        wrk.run(me_script, ME_PATH, connections=8, seconds=WARMUP_SECONDS)

        # One web process is one event loop and one thread for sync views: past a few
        # connections more concurrency only queues. Use the best for both loads.
        sweep = {c: wrk.run(me_script, ME_PATH, connections=c, seconds=SWEEP_SECONDS) for c in CONCURRENCIES}
        best = max(sweep, key=lambda c: sweep[c]["rps"])
        note("trivial sweep: " + ", ".join(f"c={c}: {r['rps']:.0f} req/s" for c, r in sweep.items()))
        note(f"using {best} connections for both loads")

        sessions_before = _pg_sessions()
        trivial = wrk.run(me_script, ME_PATH, connections=best, seconds=MEASURE_SECONDS)
        # Connection reuse matters here: a new PostgreSQL session costs a backend fork.
        sessions = (_pg_sessions() - sessions_before) / trivial["requests"]
        note(f"PostgreSQL sessions opened per trivial request: {sessions:.2f}")
        before = AttendanceEvent.objects.filter(device=device).count()
        wrk.run(_check_in_script(wrk, site, employee_ids, credential, "warm"), CHECK_IN_PATH, best, WARMUP_SECONDS)
        warm_created = AttendanceEvent.objects.filter(device=device).count() - before
        check_in = wrk.run(
            _check_in_script(wrk, site, employee_ids, credential, "run"), CHECK_IN_PATH, best, MEASURE_SECONDS
        )
        created = AttendanceEvent.objects.filter(device=device).count() - before - warm_created
        if check_in["non_2xx_3xx"] or check_in["socket_errors"]:
            note(f"WARNING: check-in errors: {check_in}; server log tail:\n{server.log_tail()}")

    queued = queue.llen(CELERY_QUEUE) - queued_before
    note(
        f"check-in run: {check_in['requests']} requests, {created} events stored, "
        f"(more stored than answered = requests in flight when wrk stopped), {check_in['non_2xx_3xx']} errors; "
        f"{queued} dispatch tasks queued in Redis"
    )
    # No worker consumes the dispatch tasks: drop them so the queue does not grow run after run.
    queue.delete(CELERY_QUEUE)
    queue.close()

    ratio_ok = check_in["rps"] / trivial["rps"] >= 0.5
    emit(
        bench=NAME,
        metric=f"checkin_rps_c{best}",
        value=check_in["rps"],
        unit="req/s",
        baseline=trivial["rps"],
        target=">= 0.5",
        met=ratio_ok and not check_in["non_2xx_3xx"],
    )
    # At equal concurrency latency is the inverse of throughput (Little's law), so the
    # throughput target implies latency ratio <= 2.
    for pct in ("p50", "p99"):
        value, baseline = check_in[f"{pct}_ms"], trivial[f"{pct}_ms"]
        emit(
            bench=NAME,
            metric=f"checkin_latency_{pct}_c{best}",
            value=value,
            unit="ms",
            baseline=baseline,
            target="<= 2.0",
            met=value <= 2 * baseline,
        )


def _setup() -> tuple[Site, list[int], Device, str]:
    """The bench site and employees (kept between runs) and a new device (its credential is shown once)."""
    admin = bench_admin()
    site = Site.objects.filter(name=SITE_NAME).first() or site_create(
        actor=admin, fields={"name": SITE_NAME, "timezone": "Europe/Berlin"}
    )
    existing = Employee.objects.filter(site=site).count()
    for n in range(existing, EMPLOYEES):
        employee_create(
            actor=admin,
            fields={"site": site, "employee_code": f"BCI{n:05d}", "first_name": "Bench", "last_name": f"Checkin {n}"},
        )
    employee_ids = list(Employee.objects.filter(site=site, is_active=True).order_by("id").values_list("id", flat=True))
    created = device_create(actor=admin, fields={"site": site, "name": f"bench-kiosk-{uuid.uuid4().hex[:12]}"})
    return site, employee_ids, created.device, created.credential


def _check_in_script(wrk: "_Wrk", site: Site, employee_ids: list[int], credential: str, phase: str) -> Path:
    earliest = AttendanceEvent.objects.filter(site=site).aggregate(first=Min("occurred_at"))["first"]
    base = (earliest or timezone.now()) - timedelta(days=1)
    body = LUA_CHECK_IN.format(
        ids=",".join(map(str, employee_ids)),
        base=int(base.timestamp()),
        step=int(STEP.total_seconds()),
        tag=f"{phase}-{uuid.uuid4().hex[:12]}",
        threads=_Wrk.THREADS,
        credential=credential,
    )
    return wrk.script(f"check-in-{phase}", body)


class _Wrk:
    # One wrk thread drives dozens of connections; a second would compete with the server.
    THREADS = 1

    def __init__(self, url: str, workdir: Path):
        self.url = url
        self.workdir = workdir

    def script(self, name: str, body: str) -> Path:
        path = self.workdir / f"{name}.lua"
        path.write_text(body + LUA_DONE)
        return path

    def run(self, script: Path, path: str, connections: int, seconds: int) -> dict:
        command = [
            "wrk",
            f"-t{self.THREADS}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            self.url + path,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
        result = json.loads(line.removeprefix("BENCHJSON "))
        # Only answered-and-successful requests count: a fast 500 is not throughput.
        ok = result["requests"] - result["non_2xx_3xx"]
        result["rps"] = ok / (result["duration_us"] / 1e6)
        result["p50_ms"], result["p99_ms"] = result["p50_us"] / 1000, result["p99_us"] / 1000
        return result


def _pg_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]
