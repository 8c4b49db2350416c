"""`make run`: the whole system on one machine, from one command.

Starts an embedded Redis when REDIS_URL is unset, prepares the database (migrate,
static files, demo data), then runs the web server, a Celery worker, a Celery worker for
camera streams and Celery beat as child processes under a :class:`Supervisor`: a child
that dies is restarted with back-off, the others keep serving. Ctrl-C or SIGTERM stops
them all.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from attendance_site.supervisor import Supervisor

BASE_DIR = Path(__file__).resolve().parent.parent
QUEUES = "default,biometrics,anomalies"


def _log(line: str) -> None:
    print(f"[run] {line}", flush=True)


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], check=True, cwd=BASE_DIR)


def worker_command(name: str, queues: str, concurrency: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "attendance_site",
        "worker",
        "-n",
        f"{name}@%h",
        "-Q",
        queues,
        "--concurrency",
        concurrency,
        "--loglevel",
        "INFO",
    ]


def _children(host: str, port: str) -> dict[str, list[str]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_site.settings")
    from django.conf import settings

    from attendance_site.server import web_command

    return {
        "web": web_command(host=host, port=port),
        "worker": worker_command("worker", QUEUES, os.environ.get("WORKER_CONCURRENCY", "2")),
        # Camera pipelines run for days, one process each: a worker of their own, so they
        # never take the slots check-ins and recognition need.
        "streams": worker_command("streams", "streams", str(settings.STREAMS_MAX_CONCURRENT)),
        "beat": [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "attendance_site",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(BASE_DIR / "var" / "celerybeat-schedule"),
        ],
    }


def _stop_signal(name: str) -> int:
    # A stream task never finishes, so the streams worker's warm shutdown would wait for
    # ever: SIGQUIT stops its pipelines at once (the supervisor task restarts them at the
    # next start, their playlists continue after a discontinuity).
    return signal.SIGQUIT if name == "streams" else signal.SIGTERM


def main() -> int:
    os.chdir(BASE_DIR)
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # The demo devices check someone in or out every few seconds (0 switches it off).
    os.environ.setdefault("DEMO_ACTIVITY_SECONDS", "8")
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    supervisor = Supervisor(cwd=BASE_DIR, log=_log)
    try:
        if not os.environ.get("REDIS_URL"):
            from attendance_site.embedded_redis import embedded_redis_command, free_port, redis_wait

            redis_port = free_port()
            # Supervised like the rest: restarted on the same port, so every URL stays valid.
            redis = supervisor.add("redis", embedded_redis_command(redis_port))
            os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            redis_wait(os.environ["REDIS_URL"], alive=lambda: redis.started.poll() is None)
            _log(f"embedded Redis on {os.environ['REDIS_URL']} (pid {redis.started.pid})")
        _manage("migrate", "--noinput")
        _manage("collectstatic", "--noinput", "--verbosity", "0")
        if os.environ.get("DEMO_DATA", "true").lower() not in ("0", "false", "no"):
            _manage("seed_demo")
        host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
        for name, command in _children(host, port).items():
            supervisor.add(name, command, stop_signal=_stop_signal(name))
        _log(f"running on http://{host}:{port}/  (admin: /admin/, API docs: /api/docs/). Ctrl-C stops everything.")
        while not stopping:
            supervisor.poll()
            time.sleep(0.5)
    except (subprocess.CalledProcessError, RuntimeError) as error:
        _log(f"start-up failed: {error}")
        return 1
    finally:
        _log("stopping")
        supervisor.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
