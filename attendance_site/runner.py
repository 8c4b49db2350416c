"""`make run`: the whole system on one machine, from one command.

Starts an embedded Redis when REDIS_URL is unset, prepares the database (migrate,
static files, demo data), then runs Daphne (web), a Celery worker, a Celery worker for
camera streams and Celery beat as child processes. Ctrl-C or SIGTERM stops them all; so does any one of them dying.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
QUEUES = "default,biometrics,anomalies"


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], check=True, cwd=BASE_DIR)


def _worker(name: str, queues: str, concurrency: str) -> list[str]:
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

    python = sys.executable
    return {
        "web": [python, "-m", "daphne", "-b", host, "-p", port, "attendance_site.asgi:application"],
        "worker": _worker("worker", QUEUES, os.environ.get("WORKER_CONCURRENCY", "2")),
        # Camera pipelines run for days, one process each: a worker of their own, so they
        # never take the slots check-ins and recognition need.
        "streams": _worker("streams", "streams", str(settings.STREAMS_MAX_CONCURRENT)),
        "beat": [
            python,
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


def main() -> int:
    os.chdir(BASE_DIR)
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # The demo devices check someone in or out every few seconds (0 switches it off).
    os.environ.setdefault("DEMO_ACTIVITY_SECONDS", "8")
    embedded = None
    if not os.environ.get("REDIS_URL"):
        from attendance_site.embedded_redis import embedded_redis_start

        embedded = embedded_redis_start()
        os.environ["REDIS_URL"] = embedded.url
        print(f"Embedded Redis on {embedded.url} (pid {embedded.process.pid})", flush=True)

    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    exit_code = 0
    try:
        _manage("migrate", "--noinput")
        _manage("collectstatic", "--noinput", "--verbosity", "0")
        _manage("seed_demo")
        host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
        for name, command in _children(host, port).items():
            processes[name] = subprocess.Popen(command, cwd=BASE_DIR)
        print(
            f"\nRunning on http://{host}:{port}/  (admin: /admin/, API docs: /api/docs/). Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with code {process.returncode}; stopping the rest.", flush=True)
                    exit_code = process.returncode or 1
                    stopping = True
            time.sleep(0.5)
    except subprocess.CalledProcessError as error:
        exit_code = error.returncode or 1
    finally:
        _stop(processes)
        if embedded is not None:
            embedded.stop()
    return exit_code


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for name, process in processes.items():
        if process.poll() is None:
            # A stream task never finishes, so the streams worker's warm shutdown would
            # wait for ever: SIGQUIT stops its pipelines at once (the supervisor restarts
            # them at the next start, their playlists continue after a discontinuity).
            process.send_signal(signal.SIGQUIT if name == "streams" else signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
